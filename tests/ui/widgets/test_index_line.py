"""The columns of an index line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from rich.cells import cell_len

from tests.ui.widgets.rows import make_row
from tuimail.mail.threads import ThreadRow
from tuimail.ui.widgets.index_line import (
    Columns,
    date_text,
    fit,
    flags_text,
    scrollbar_thumb,
    sender_text,
    size_text,
    subject_text,
    thread_prefix,
)

NOW = datetime(2026, 3, 14, 15, 30, tzinfo=UTC)


def test_dates_are_time_today_month_day_this_year_and_iso_before() -> None:
    assert date_text(NOW - timedelta(hours=2), NOW) == "13:30"
    assert date_text(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), NOW) == "Jan 05"
    assert date_text(datetime(2025, 12, 31, 9, 0, tzinfo=UTC), NOW) == "2025-12-31"
    assert date_text(None, NOW) == "?"


def test_dates_are_shown_in_the_clock_time_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    # In Tokyo "now" is already 00:30 on the 15th, so 14:00 UTC (23:00 there) is yesterday.
    assert date_text(datetime(2026, 3, 14, 14, 0, tzinfo=UTC), NOW.astimezone(tokyo)) == "Mar 14"
    assert date_text(datetime(2026, 3, 14, 20, 0, tzinfo=UTC), NOW.astimezone(tokyo)) == "05:00"


def test_sizes_fit_five_cells() -> None:
    assert [size_text(n) for n in (0, 999, 1000, 1536, 34_000, 2_200_000)] == [
        "0",
        "999",
        "1.0K",
        "1.5K",
        "33K",
        "2.1M",
    ]
    assert all(len(size_text(10**n)) <= 5 for n in range(16))


def test_flags_show_new_replied_flagged_and_attachment() -> None:
    row = make_row(1)
    assert flags_text(row) == "N   "
    row = replace(row, seen=True, answered=True, flagged=True, has_attachments=True)
    assert flags_text(row) == " r!@"
    assert flags_text(replace(row, answered=False, forwarded=True))[1] == "f"


def test_thread_guides_follow_the_tree() -> None:
    assert thread_prefix(ThreadRow(1, 0, 1, True, True)) == ""
    assert thread_prefix(ThreadRow(2, 1, 1, False, True)) == "├─ "
    assert thread_prefix(ThreadRow(3, 2, 1, True, False, guides=0b10)) == "│ └─ "


def test_fit_pads_or_cuts_to_exact_cells_even_for_wide_characters() -> None:
    assert fit("abc", 5) == "abc  "
    assert fit("田中太郎さん", 7) == "田中太…"
    assert cell_len(fit("田中太郎さん", 8)) == 8
    assert fit("anything", 0) == ""


def test_sender_and_subject_are_sanitised_and_never_empty() -> None:
    row = replace(make_row(1), from_name="\x1b[31mEve\u202e", subject="")
    assert sender_text(row) == "Eve"
    assert subject_text(row) == "(no subject)"


def test_narrow_indexes_drop_the_size_column_and_fill_the_width() -> None:
    for width in (30, 59, 60, 80, 160):
        columns = Columns.for_width(width)
        assert columns.size == (width >= 60)
        fixed = 4 + 1 + 10 + 1 + columns.sender + 1 + (6 if columns.size else 0)
        assert fixed + columns.subject == width or columns.subject == 0


def test_the_scrollbar_thumb_shows_where_the_screen_is() -> None:
    assert scrollbar_thumb(40, 30, 0) is None
    assert scrollbar_thumb(40, 100_000, 0) == range(0, 1)
    assert scrollbar_thumb(40, 100_000, 99_960) == range(39, 40)
    assert scrollbar_thumb(40, 80, 40) == range(20, 40)
