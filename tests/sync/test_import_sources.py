"""Reading mbox files, Maildirs and MH folders for ``tuimail import``: bytes, flags and dates."""

from __future__ import annotations

import mailbox
import os
from datetime import UTC, datetime
from pathlib import Path

from tuimail.sync.import_sources import Skipped, SourceMessage, open_source

MESSAGE = b"From: a@example.org\nSubject: %s\nMessage-ID: <%s@x>\n\nbody of %s\n"


def message(tag: bytes) -> bytes:
    return MESSAGE % (tag, tag, tag)


def messages(path: Path, quoting: str = "auto") -> list[SourceMessage | Skipped]:
    (folder,) = open_source(path, quoting)  # type: ignore[arg-type]
    return list(folder.entries())


def test_mboxrd_from_lines_lose_one_quoting_level(tmp_path: Path) -> None:
    box = tmp_path / "rd.mbox"
    box.write_bytes(
        b"From a@example.org Tue Dec  8 02:46:11 2026\n"
        b"From: a@example.org\nSubject: one\n\n"
        b">From the start\n>>From quoted\nFrom-less line\n\n"
        b"From b@example.org Wed Dec  9 10:00:00 2026\n"
        b"From: b@example.org\nSubject: two\n\nlast\n"
    )
    first, second = messages(box)
    assert isinstance(first, SourceMessage) and isinstance(second, SourceMessage)
    assert first.raw.endswith(b"\r\nFrom the start\r\n>From quoted\r\nFrom-less line\r\n")
    assert first.internal_date == datetime(2026, 12, 8, 2, 46, 11, tzinfo=UTC)
    assert second.raw == b"From: b@example.org\r\nSubject: two\r\n\r\nlast\r\n"


def test_mboxo_keeps_lines_quoted_twice(tmp_path: Path) -> None:
    box = tmp_path / "o.mbox"
    box.write_bytes(
        b"From a@example.org Tue Dec  8 02:46:11 2026\nSubject: one\n\n>From x\n>>From y\n"
    )
    (only,) = messages(box, "mboxo")
    assert isinstance(only, SourceMessage)
    assert only.raw.endswith(b"\r\nFrom x\r\n>>From y\r\n")


def test_mbox_written_by_python_mailbox_gives_flags_and_no_status_headers(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "py.mbox")
    for n, flags in enumerate(["RF", "RA", "O"]):
        entry = mailbox.mboxMessage(message(b"%d" % n))
        entry.set_flags(flags)
        entry.set_from("sender@example.org", (2024, 3, 1 + n, 12, 0, 0, 0, 0, 0))
        box.add(entry)
    box.flush()
    box.close()
    read = messages(tmp_path / "py.mbox")
    assert [m.flags for m in read if isinstance(m, SourceMessage)] == [
        {"\\Seen", "\\Flagged"},
        {"\\Seen", "\\Answered"},
        set(),
    ]
    for n, found in enumerate(read):
        assert isinstance(found, SourceMessage)
        assert b"Status:" not in found.raw
        assert found.raw.startswith(b"From: a@example.org\r\nSubject: %d\r\n" % n)
        assert found.internal_date == datetime(2024, 3, 1 + n, 12, tzinfo=UTC)


def test_mutt_style_maildir_tree_gives_flags_dates_and_subfolders(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    for folder in (root, root / ".Lists.python"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
    (root / "cur" / "1700000000.R1.host:2,FRS").write_bytes(MESSAGE % (b"a", b"a", b"a"))
    (root / "new" / "1700000001.R2.host").write_bytes(MESSAGE % (b"b", b"b", b"b"))
    (root / ".Lists.python" / "cur" / "1700000002.R3.host:2,ST").write_bytes(
        MESSAGE % (b"c", b"c", b"c")
    )
    os.utime(root / "cur" / "1700000000.R1.host:2,FRS", (1_600_000_000, 1_600_000_000))
    top, lists = open_source(root)
    read = list(top.entries())
    assert [m.flags for m in read if isinstance(m, SourceMessage)] == [
        {"\\Flagged", "\\Answered", "\\Seen"},
        set(),
    ]
    first = read[0]
    assert isinstance(first, SourceMessage)
    assert first.internal_date == datetime.fromtimestamp(1_600_000_000, UTC)
    assert lists.subfolder == ("Lists", "python")
    (deleted,) = lists.entries()
    assert isinstance(deleted, SourceMessage) and deleted.flags == {"\\Seen", "\\Deleted"}


def test_maildir_files_in_delivery_order_when_counters_grow_a_digit(tmp_path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / sub).mkdir()
    for n in (10, 9, 100):
        name = f"1700000000.P1Q{n}.host:2,S"
        (tmp_path / "cur" / name).write_bytes(message(b"%d" % n))
    subjects = [m.raw.split(b"\r\n")[1] for m in messages(tmp_path) if isinstance(m, SourceMessage)]
    assert subjects == [b"Subject: 9", b"Subject: 10", b"Subject: 100"]


def test_garbage_in_a_maildir_is_skipped_as_not_a_message(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "md")
    box.add(MESSAGE % (b"ok", b"ok", b"ok"))
    (tmp_path / "md" / "new" / "1.garbage.host").write_bytes(b"\x00\x01\x02 not mail at all")
    read = messages(tmp_path / "md")
    assert sorted(type(m).__name__ for m in read) == ["Skipped", "SourceMessage"]
    skipped = next(m for m in read if isinstance(m, Skipped))
    assert skipped.reason == "not a message" and "1.garbage.host" in skipped.origin


def test_mh_folder_reads_unseen_and_flagged_sequences(tmp_path: Path) -> None:
    box = mailbox.MH(tmp_path / "mh")
    for n in range(3):
        box.add(message(b"%d" % n))
    box.set_sequences({"unseen": [1], "flagged": [2]})
    read = messages(tmp_path / "mh")
    assert [m.flags for m in read if isinstance(m, SourceMessage)] == [
        set(),
        {"\\Seen", "\\Flagged"},
        {"\\Seen"},
    ]
