"""Send-later times: what each form means against a fixed now, in UTC (no DST) and Berlin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tuimail.mail.when import WhenError, describe, parse_when

# Monday 7 December 2026, 14:30 UTC
NOW = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


def at(text: str, now: datetime = NOW, zone: ZoneInfo | None = None) -> datetime:
    return parse_when(text, now, zone or ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 9:00", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("today 17:30", datetime(2026, 12, 7, 17, 30, tzinfo=UTC)),
        ("tue 8am", datetime(2026, 12, 8, 8, 0, tzinfo=UTC)),
        ("Friday 5pm", datetime(2026, 12, 11, 17, 0, tzinfo=UTC)),
        ("mon 8am", datetime(2026, 12, 14, 8, 0, tzinfo=UTC)),  # today's 8am has passed
        ("mon 16:00", datetime(2026, 12, 7, 16, 0, tzinfo=UTC)),  # today's is still to come
        ("17:30", datetime(2026, 12, 7, 17, 30, tzinfo=UTC)),
        ("9:15", datetime(2026, 12, 8, 9, 15, tzinfo=UTC)),  # passed today: tomorrow
        ("12am", datetime(2026, 12, 8, 0, 0, tzinfo=UTC)),
        ("12pm", datetime(2026, 12, 8, 12, 0, tzinfo=UTC)),
        ("+2h", NOW + timedelta(hours=2)),
        ("+90s", NOW + timedelta(seconds=90)),
        ("in 30 min", NOW + timedelta(minutes=30)),
        ("in 2 days", NOW + timedelta(days=2)),
        ("2026-12-08 09:00", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("2026-12-08T09:00", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("2026-12-08", datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        ("2026-12-08T09:00+01:00", datetime(2026, 12, 8, 8, 0, tzinfo=UTC)),
    ],
)
def test_send_later_text_names_the_moment_a_person_means(text: str, expected: datetime) -> None:
    assert at(text) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "tomorrow 25:00", "13pm", "+2 fortnights", "2026-12-07 08:00"]
)
def test_send_later_refuses_what_it_cannot_read_or_what_is_past(text: str) -> None:
    with pytest.raises(WhenError):
        at(text)


def test_today_at_a_passed_time_is_an_error_not_tomorrow() -> None:
    with pytest.raises(WhenError, match="in the past"):
        at("today 9:00")


def test_send_later_reads_wall_clock_times_in_the_local_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in December
    assert at("tomorrow 9:00", zone=berlin) == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)


def test_a_day_across_the_dst_change_keeps_its_wall_clock_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # DST starts Sunday 29 March
    assert at("tomorrow 9:00", now=saturday, zone=berlin) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert at("+24h", now=saturday, zone=berlin) == saturday + timedelta(hours=24)


def test_a_wall_time_that_happens_twice_means_the_first() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # 02:30 happens twice on the 25th
    assert at("tomorrow 2:30", now=saturday, zone=berlin) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_the_time_is_echoed_back_in_words() -> None:
    zone = ZoneInfo("UTC")
    assert describe(at("tomorrow 9:00"), NOW, zone) == "Tuesday 8 December 09:00"
    assert describe(at("2027-01-04 10:00"), NOW, zone) == "Monday 4 January 2027 10:00"
