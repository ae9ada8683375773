"""The values our IMAP client hands to the sync engine: frozen, typed, free of wire syntax.

Strings a person will read (folder names, everything in an ``Envelope``) are decoded and
sanitised here already; the fields that go back to the server (``FolderInfo.raw_name``, UIDs)
are kept exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tuimail.mail.envelope import Envelope
from tuimail.mail.values import fast_frozen

Role = Literal["inbox", "sent", "drafts", "trash", "junk", "archive"]


@dataclass(frozen=True, slots=True)
class FolderInfo:
    """One folder from LIST: its readable name, its name on the wire and what it is for."""

    name: str  # decoded from modified UTF-7 and sanitised; what the client methods accept
    raw_name: str  # exactly as the server spells it
    delimiter: str | None  # hierarchy separator, None for a flat namespace
    flags: frozenset[str]  # e.g. {"\\HasNoChildren", "\\Sent"}, as the server wrote them
    role: Role | None  # from RFC 6154 special-use flags, or "inbox" for INBOX
    subscribed: bool

    @property
    def selectable(self) -> bool:
        """False for placeholders that hold only other folders (\\Noselect, \\NonExistent)."""
        lowered = {flag.lower() for flag in self.flags}
        return not lowered & {"\\noselect", "\\nonexistent"}


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """The flags of one message, and its CONDSTORE mod-sequence when the server keeps one."""

    uid: int
    flags: frozenset[str]
    modseq: int | None = None


@dataclass(frozen=True, slots=True)
class SelectedState:
    """What SELECT or EXAMINE reported about the folder that is now open."""

    name: str
    exists: int
    uidvalidity: int
    uidnext: int | None  # a few servers omit it; ask STATUS or fetch the last UID instead
    highestmodseq: int | None  # None without CONDSTORE, or for a folder with NOMODSEQ
    readonly: bool
    flags: frozenset[str]  # the flags defined in the folder
    permanent_flags: frozenset[str]  # the flags we may store; "\\*" means any keyword
    vanished: tuple[int, ...] = ()  # QRESYNC: UIDs expunged since the given modseq
    changed: tuple[FlagRecord, ...] = ()  # QRESYNC: flag changes since the given modseq


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """STATUS counters of a folder that need not be selected."""

    messages: int
    unseen: int
    uidnext: int
    uidvalidity: int
    highestmodseq: int | None


@fast_frozen
class HeaderRecord:
    """Everything the message index needs about one message, from a single UID FETCH."""

    uid: int
    flags: frozenset[str]
    internal_date: datetime  # when the server received it; timezone-aware
    size: int  # RFC822.SIZE: bytes with CRLF line endings
    modseq: int | None
    envelope: Envelope  # decoded, sanitised; carries size and has_attachments too
    has_attachments: bool  # some body part has Content-Disposition: attachment

    @property
    def message_id(self) -> str | None:
        """The Message-ID, angle brackets included."""
        return self.envelope.message_id

    @property
    def in_reply_to(self) -> str | None:
        """The first message id in In-Reply-To."""
        return self.envelope.in_reply_to

    @property
    def references(self) -> tuple[str, ...]:
        """The message ids in References, oldest first."""
        return self.envelope.references


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What UID STORE changed, and which messages UNCHANGEDSINCE protected."""

    updated: tuple[FlagRecord, ...]
    modified: tuple[int, ...] = ()  # UIDs changed by someone else since the given modseq


# Events the server pushes about the selected folder: during IDLE, or with any other reply.


@dataclass(frozen=True, slots=True)
class Exists:
    """The folder now holds ``count`` messages (new mail arrived, usually)."""

    count: int


@dataclass(frozen=True, slots=True)
class Expunge:
    """The message with sequence number ``seq`` is gone; higher numbers shift down by one."""

    seq: int


@dataclass(frozen=True, slots=True)
class Vanished:
    """QRESYNC: these UIDs are gone. ``earlier`` marks a report about the past (on SELECT)."""

    uids: tuple[int, ...]
    earlier: bool = False


@dataclass(frozen=True, slots=True)
class FlagsChanged:
    """A message's flags changed; ``uid`` is None when the server did not say it."""

    seq: int
    uid: int | None
    flags: frozenset[str]
    modseq: int | None = None


ServerEvent = Exists | Expunge | Vanished | FlagsChanged
