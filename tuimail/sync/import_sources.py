"""Reading mail to import: mbox files (mboxrd or mboxo), Maildir and Maildir++ trees, MH folders.

The bytes are read here rather than through the mailbox module, which re-folds headers when it
hands out flags; a message reaches the server exactly as it was in the file, with CRLF line
ends. Only what belongs to the mailbox format is taken away: the From_ line, the quoting of
'From ' lines, and the Status/X-Status headers an mbox keeps its flags in (they become flags).
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal

from tuimail.errors import TuimailError
from tuimail.protocols.imap_utf7 import decode_mailbox

MboxQuoting = Literal["auto", "mboxrd", "mboxo"]
SkipReason = Literal["unreadable", "not a message"]

_MAILDIR_FLAGS = {
    "D": "\\Draft",
    "F": "\\Flagged",
    "P": "$Forwarded",
    "R": "\\Answered",
    "S": "\\Seen",
    "T": "\\Deleted",
}
# mutt and the other mbox readers: Status R = read; X-Status A = answered, F = flagged, T = draft
_STATUS_FLAGS = {b"R": "\\Seen"}
_X_STATUS_FLAGS = {b"A": "\\Answered", b"F": "\\Flagged", b"T": "\\Draft", b"D": "\\Deleted"}
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_LINE_END = re.compile(rb"\r?\n")
_FROM_DATE = re.compile(
    rb"[A-Za-z]{3} +([A-Za-z]{3}) +(\d{1,2}) +(\d{1,2}):(\d{2})(?::(\d{2}))? +(\d{4})"
)
_MONTHS = [b"jan", b"feb", b"mar", b"apr", b"may", b"jun"]
_MONTHS += [b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"]
_DIGITS = re.compile(r"(\d+)")


class SourceError(TuimailError):
    """The path to import is not something we can read as mail."""


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """One message to import, its line ends CRLF as IMAP wants them."""

    raw: bytes
    flags: frozenset[str]
    internal_date: datetime | None
    origin: str  # where it came from, for the summary: "box.mbox message 3", a file name


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the source that is not imported, and why."""

    origin: str
    reason: SkipReason


Entry = SourceMessage | Skipped


@dataclass(frozen=True)
class SourceFolder:
    """One folder of the source; ``entries`` reads it again on every call."""

    subfolder: tuple[str, ...]  # () is the target folder itself; ("Lists", "python") below it
    entries: Callable[[], Iterator[Entry]]


def open_source(path: Path, quoting: MboxQuoting = "auto") -> list[SourceFolder]:
    """The folders of an mbox file, Maildir(++) tree or MH folder at ``path``."""
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return _maildir_tree(path)
        if (path / ".mh_sequences").exists() or any(name.isdigit() for name in os.listdir(path)):
            return [SourceFolder((), lambda: _mh_entries(path))]
        raise SourceError(f"{path} is a directory but not a Maildir or an MH folder")
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    return [SourceFolder((), lambda: _mbox_entries(path, quoting))]


def crlf(raw: bytes) -> bytes:
    """The message with every line ending in CRLF (what IMAP carries and the server hashes)."""
    return _LINE_END.sub(b"\r\n", raw)


def _is_message(raw: bytes) -> bool:
    return _HEADER_LINE.match(raw) is not None


def _message(raw: bytes, flags: frozenset[str], when: datetime | None, origin: str) -> Entry:
    if not _is_message(raw):
        return Skipped(origin, "not a message")
    return SourceMessage(crlf(raw), flags, when or _date_header(raw), origin)


def _date_header(raw: bytes) -> datetime | None:
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    found = re.search(rb"^Date:[ \t]*(.*(?:\r?\n[ \t].*)*)", head, re.M | re.I)
    if found is None:
        return None
    try:
        when = parsedate_to_datetime(found.group(1).decode("ascii", "replace").strip())
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


# mbox


def _mbox_entries(path: Path, quoting: MboxQuoting) -> Iterator[Entry]:
    try:
        handle = path.open("rb")
    except OSError as error:
        yield Skipped(f"{path.name}: {error.strerror}", "unreadable")
        return
    number = 0
    with handle:
        from_line: bytes | None = None
        lines: list[bytes] = []
        blank_before = True
        for line in handle:
            # A From_ line starts a message at the top of the file or after an empty line.
            if blank_before and line.startswith(b"From "):
                if from_line is not None or any(lines):
                    number += 1
                    yield _mbox_message(from_line, lines, quoting, f"{path.name} message {number}")
                from_line, lines, blank_before = line, [], False
                continue
            lines.append(line)
            blank_before = line in (b"\n", b"\r\n")
        if from_line is not None or any(lines):
            number += 1
            yield _mbox_message(from_line, lines, quoting, f"{path.name} message {number}")


def _mbox_message(
    from_line: bytes | None, lines: list[bytes], quoting: MboxQuoting, origin: str
) -> Entry:
    if from_line is not None and lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]  # the empty line before the next From_ line is the separator
    flags: set[str] = set()
    body_at = next((i for i, line in enumerate(lines) if line in (b"\n", b"\r\n")), len(lines))
    header: list[bytes] = []
    skipping = False
    for line in lines[:body_at]:
        if skipping and line[:1] in (b" ", b"\t"):
            continue
        name = line.split(b":", 1)[0].lower()
        skipping = name in (b"status", b"x-status") and b":" in line
        if skipping:
            table = _STATUS_FLAGS if name == b"status" else _X_STATUS_FLAGS
            value = line.split(b":", 1)[1].strip()
            flags.update(table[bytes([c])] for c in value if bytes([c]) in table)
            continue
        header.append(line)
    unquoted = [_unquote(line, quoting) for line in header + lines[body_at:]]
    when = _from_line_date(from_line) if from_line is not None else None
    return _message(b"".join(unquoted), frozenset(flags), when, origin)


def _unquote(line: bytes, quoting: MboxQuoting) -> bytes:
    # mboxrd quoted every '>*From ' line with one more '>'; mboxo only 'From ' (so '>From '
    # in the original text cannot be told from a quoted 'From '). Both read '>From ' alike;
    # they differ only on '>>From ', which auto reads as mboxrd, the quoting that writes it.
    if not line.startswith(b">"):
        return line
    stripped = line.lstrip(b">")
    if not stripped.startswith(b"From "):
        return line
    if quoting == "mboxo" and len(line) - len(stripped) > 1:
        return line
    return line[1:]


def _from_line_date(line: bytes) -> datetime | None:
    found = _FROM_DATE.search(line)
    if found is None:
        return None
    month, day, hour, minute, second, year = found.groups()
    try:
        return datetime(
            int(year),
            _MONTHS.index(month.lower()) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=UTC,  # From_ lines carry no zone; exporters (ours, mutt) write UTC
        )
    except ValueError:
        return None


# Maildir and Maildir++


def _maildir_tree(root: Path) -> list[SourceFolder]:
    folders = [SourceFolder((), lambda: _maildir_entries(root))]
    # Maildir++: ".Lists.python" beside cur/new/tmp is the folder Lists/python (its name in
    # modified UTF-7, as Dovecot and Courier write it).
    for child in sorted(root.iterdir(), key=lambda p: p.name):
        if child.name.startswith(".") and ((child / "cur").is_dir() or (child / "new").is_dir()):
            parts = tuple(decode_mailbox(part) for part in child.name[1:].split("."))
            folders.append(SourceFolder(parts, _reader(child)))
    return folders


def _reader(folder: Path) -> Callable[[], Iterator[Entry]]:
    return lambda: _maildir_entries(folder)


def _natural(name: str) -> list[str | int]:
    # Unique names start with the delivery time and count up ("...Q9", "...Q10"): compare the
    # numbers as numbers so the folder keeps its order.
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(name)]


def _maildir_entries(folder: Path) -> Iterator[Entry]:
    names: list[tuple[list[str | int], Path]] = []
    for sub in ("new", "cur"):
        directory = folder / sub
        if directory.is_dir():
            names += [
                (_natural(p.name), p) for p in directory.iterdir() if not p.name.startswith(".")
            ]
    for _key, path in sorted(names, key=lambda item: item[0]):
        flags = _info_flags(path.name) if path.parent.name == "cur" else frozenset()
        yield _message_file(path, flags, f"{folder.name}/{path.parent.name}/{path.name}")


def _message_file(path: Path, flags: frozenset[str], origin: str) -> Entry:
    """A message that is a file of its own (Maildir, MH): dated by its modification time."""
    try:
        raw = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError as error:
        return Skipped(f"{origin}: {error.strerror}", "unreadable")
    return _message(raw, flags, datetime.fromtimestamp(int(mtime), UTC), origin)


def _info_flags(name: str) -> frozenset[str]:
    # "unique:2,FRS" (or "!2," where ':' cannot be in a file name); lower case letters are
    # keywords whose names live in a file of the delivering server's own, so they are left.
    for separator in (":2,", "!2,"):
        if separator in name:
            letters = name.rsplit(separator, 1)[1]
            return frozenset(_MAILDIR_FLAGS[c] for c in letters if c in _MAILDIR_FLAGS)
    return frozenset()


# MH


def _mh_entries(folder: Path) -> Iterator[Entry]:
    sequences: dict[str, list[int]] = {}
    # No readable .mh_sequences: every message as read, no flags.
    with contextlib.suppress(OSError, mailbox.FormatError):
        sequences = mailbox.MH(folder, create=False).get_sequences()
    unseen = set(sequences.get("unseen", ()))
    flagged = set(sequences.get("flagged", ()))
    replied = set(sequences.get("replied", ()))
    numbers = sorted(int(name) for name in os.listdir(folder) if name.isdigit())
    for number in numbers:
        flags = {"\\Seen"} if number not in unseen else set()
        flags |= {"\\Flagged"} if number in flagged else set()
        flags |= {"\\Answered"} if number in replied else set()
        yield _message_file(folder / str(number), frozenset(flags), f"{folder.name}/{number}")
