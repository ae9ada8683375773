"""Frozen values the store hands to the layers above; no ORM object leaves the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tuimail.mail.envelope import Envelope
from tuimail.mail.values import fast_frozen

# IMAP flag names and the boolean columns that hold them; other keywords go to `keywords`.
FLAG_COLUMNS: dict[str, str] = {
    "\\Seen": "seen",
    "\\Answered": "answered",
    "\\Flagged": "flagged",
    "\\Deleted": "deleted",
    "\\Draft": "draft",
    "$Forwarded": "forwarded",
}


def to_timestamp(value: datetime | None) -> int:
    """Unix seconds for the store (0 for an unknown date, which sorts oldest)."""
    return int(value.timestamp()) if value is not None else 0


def from_timestamp(value: int | None) -> datetime | None:
    """A UTC datetime from stored Unix seconds (None for unknown)."""
    return datetime.fromtimestamp(value, UTC) if value else None


@dataclass(frozen=True, slots=True)
class FolderState:
    """A folder as the store knows it."""

    id: int
    account_id: int
    name: str
    role: str | None
    delimiter: str | None
    is_local: bool
    subscribed: bool
    uidvalidity: int | None
    uidnext: int | None
    highestmodseq: int | None
    total_count: int
    unread_count: int


@fast_frozen
class NewMessage:
    """A message to insert: its envelope, where it came from, its flags, maybe its bytes."""

    envelope: Envelope
    uid: int | None = None
    uidl: str | None = None
    flags: frozenset[str] = frozenset()
    internal_date: datetime | None = None
    modseq: int | None = None
    raw: bytes | None = None
    body_text: str = ""  # plain text for the search index when the body is known


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One line of the index, plus what the message view needs to find the body."""

    id: int
    folder_id: int
    uid: int | None
    uidl: str | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    thread_id: int | None
    date: datetime | None
    from_name: str
    from_email: str
    to_addrs: str
    cc_addrs: str
    subject: str
    seen: bool
    answered: bool
    flagged: bool
    deleted: bool
    draft: bool
    forwarded: bool
    keywords: tuple[str, ...]
    size: int
    has_attachments: bool
    preview: str

    @property
    def flags(self) -> frozenset[str]:
        """The IMAP flags this row carries."""
        names = {name for name, column in FLAG_COLUMNS.items() if getattr(self, column)}
        return frozenset(names | set(self.keywords))

    @property
    def sender(self) -> str:
        """The sender as shown in the index: the name, else the address."""
        return self.from_name or self.from_email
