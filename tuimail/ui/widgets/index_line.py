"""The columns of one index line, as plain text: flags, date, sender, subject, size.

Pure functions, so the line layout is tested without a terminal and costs little per line.
Every string from a message passes ``sanitize_line`` here, whatever the store holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size

from tuimail.mail.sanitize import sanitize_line
from tuimail.mail.threads import ThreadRow
from tuimail.store.records import MessageRow

FLAGS_WIDTH = 4
DATE_WIDTH = 10
SIZE_WIDTH = 5
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNITS = ("K", "M", "G", "T")


@dataclass(frozen=True, slots=True)
class Columns:
    """Column widths for an index of a given width; the subject takes what is left."""

    sender: int
    subject: int
    size: bool

    @classmethod
    def for_width(cls, width: int) -> Columns:
        """Narrow panes drop the size column and shrink the sender before the subject."""
        size = width >= 60
        fixed = FLAGS_WIDTH + 1 + DATE_WIDTH + 1 + (SIZE_WIDTH + 1 if size else 0)
        sender = max(8, min(22, (width - fixed) // 3))
        subject = max(0, width - fixed - sender - 1)
        return cls(sender, subject, size)


@dataclass(frozen=True, slots=True)
class Hidden:
    """What a folded thread hides: any unread reply, any flagged one (mutt shows both)."""

    unread: bool = False
    flagged: bool = False

    @classmethod
    def of(cls, rows: list[MessageRow]) -> Hidden:
        """The aggregate of the hidden rows."""
        return cls(any(not r.seen for r in rows), any(r.flagged for r in rows))


NOTHING_HIDDEN = Hidden()


def flags_text(row: MessageRow, hidden: Hidden = NOTHING_HIDDEN) -> str:
    """Four columns: ``N`` new, ``r`` replied (``f`` forwarded), ``!`` flagged, ``@`` attached;
    on a folded thread's line ``N`` and ``!`` count the replies it hides too."""
    return (
        ("N" if not row.seen or hidden.unread else " ")
        + ("r" if row.answered else "f" if row.forwarded else " ")
        + ("!" if row.flagged or hidden.flagged else " ")
        + ("@" if row.has_attachments else " ")
    )


def date_text(date: datetime | None, now: datetime) -> str:
    """``HH:MM`` today, ``Mon DD`` this year, ``YYYY-MM-DD`` before; in ``now``'s time zone.

    Month names are fixed English abbreviations so that the column does not depend on locale.
    """
    if date is None:
        return "?"
    local = date.astimezone(now.tzinfo) if now.tzinfo is not None else date
    if local.date() == now.date():
        return f"{local.hour:02d}:{local.minute:02d}"
    if local.year == now.year:
        return f"{_MONTHS[local.month - 1]} {local.day:02d}"
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"


def size_text(size: int) -> str:
    """A size in at most five cells: ``512``, ``1.2K``, ``34K``, ``2.1M``."""
    if size < 1000:
        return str(max(size, 0))
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 9.95:
            return f"{value:.1f}{unit}"
        if value < 999.5:
            return f"{value:.0f}{unit}"
    return "huge"


def thread_prefix(row: ThreadRow) -> str:
    """Tree guides before a reply's subject, e.g. ``│ └─ ``; nothing for a thread's first row."""
    if row.depth == 0:
        return ""
    depth = min(row.depth, 12)  # very deep threads keep room for the subject
    guides = "".join("│ " if row.has_guide(level) else "  " for level in range(1, depth))
    return guides + ("└─ " if row.is_last_child else "├─ ")


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` cells, with ``…`` where it was cut."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def sender_text(row: MessageRow) -> str:
    """The sender's name, else the address, safe to show."""
    return sanitize_line(row.sender) or "(no sender)"


def subject_text(row: MessageRow) -> str:
    """The subject, safe to show."""
    return sanitize_line(row.subject) or "(no subject)"


def scrollbar_thumb(height: int, count: int, top: int) -> range | None:
    """The screen rows of the scrollbar's thumb; None when everything fits on the screen."""
    if count <= height:
        return None
    length = max(1, height * height // count)
    start = min(height - length, top * height // count)
    return range(start, start + length)
