"""What the interface asks of the mail layer, and the values it gets back.

The reading UI reaches mail through ``MailService`` and the compose screen through
``ComposeService`` (``sync.service`` and ``sync.composing`` implement them over the store). The
interface imports only this module of the layer below at start-up: the store, SQLAlchemy and the
protocol engines load behind the first painted screen (``sync.startup``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from tuimail.mail.compose import Draft, Identity, ReplyMode, format_address
from tuimail.mail.query import Query
from tuimail.mail.threads import ThreadRow
from tuimail.store.records import FolderState, MessageRow

AddressSource = Literal["written", "own", "contacts", "received"]


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Progress of one account's sync, in messages and bytes."""

    account: str
    done: int
    total: int
    bytes_done: int = 0


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """How one account's sync ended: a summary line, or the one-line error."""

    account: str
    ok: bool
    summary: str


ProgressCallback = Callable[[SyncProgress], None]


@dataclass(frozen=True, slots=True)
class AddressSuggestion:
    """One address completion: who, and why it is offered (written to, in contacts, received)."""

    name: str
    email: str
    source: AddressSource
    uses: int = 0  # messages written to it (or received from it, for "received")

    @property
    def text(self) -> str:
        """As it goes into an address field: ``Name <email>``."""
        return format_address(self.name, self.email)


ActionKind = Literal["seen", "unseen", "flag", "unflag", "delete", "move", "copy"]


@dataclass(frozen=True, slots=True)
class AccountFolders:
    """A configured account and the folders the store has for it (none before the first sync)."""

    name: str
    folders: tuple[FolderState, ...]


@dataclass(frozen=True, slots=True)
class MailAction:
    """A change to messages; ``target_folder`` is the destination of a move or copy."""

    kind: ActionKind
    message_ids: tuple[int, ...]
    target_folder: int | None = None


@dataclass(frozen=True, slots=True)
class Moved:
    """A message an action moved (to Trash or a folder), with what it takes to put it back."""

    message_id: int  # its store id when it was moved
    source_folder: int
    target_folder: int
    header_id: str  # its Message-ID: the server's copy in the target is found by it


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action changed, so the UI can update just that."""

    removed: tuple[int, ...] = ()  # ids that left their folder (moved, deleted)
    changed: tuple[int, ...] = ()  # ids still in place whose flags changed
    folders: frozenset[int] = frozenset()  # folders whose counts changed
    summary: str = ""  # one line for the user
    moved: tuple[Moved, ...] = ()  # what ``MailService.undo`` can put back


@dataclass(frozen=True, slots=True)
class NewMail:
    """Unread mail that came in from outside (not a folder's first sync, not the user's own
    moves): how many, and the newest one's folder, sender and subject."""

    account: str
    count: int
    folder: str
    sender: str
    subject: str


@dataclass(frozen=True, slots=True)
class SyncFinished:
    """One account's sync pass ended; ``new_messages`` counts unread mail it brought, and
    ``arrived`` is the part of it worth a bell or a notification."""

    outcome: SyncOutcome
    new_messages: int
    arrived: NewMail | None = None


ServiceEvent = SyncProgress | SyncFinished


Listener = Callable[[ServiceEvent], None]


class MailService(Protocol):
    """Everything the reading UI asks of the mail layer."""

    async def accounts(self) -> list[AccountFolders]:
        """Configured accounts in config order, each with its folders (special-use first)."""
        ...

    async def message_ids(self, folder_id: int, limit: int = -1) -> list[int]:
        """A folder's message ids (all, or the newest ``limit``), newest first. A virtual
        folder's id (``store.virtual_folders``: All inboxes...) works here, in ``thread_rows``,
        ``search`` and ``watch`` as a folder's; actions go by each message's own folder."""
        ...

    async def thread_rows(self, folder_id: int) -> list[ThreadRow]:
        """A folder's messages as threads: newest thread first, replies under their parents."""
        ...

    async def rows(self, ids: Sequence[int]) -> list[MessageRow]:
        """Index rows for ``ids``, in that order (one page of the index)."""
        ...

    async def search(self, query: Query, folder_id: int | None) -> list[int]:
        """Ids matching ``query``, newest first, in one folder or (None) in all."""
        ...

    async def open_message(self, message_id: int) -> bytes:
        """A message's raw bytes, fetched from the server when only its headers are stored."""
        ...

    async def apply(self, action: MailAction) -> ActionResult:
        """Change messages: flags, delete (to Trash; for good inside Trash), move, copy."""
        ...

    async def mark_opened(self, message_id: int) -> ActionResult:
        """The user read a message: mark it seen wherever that is ours to do."""
        ...

    async def undo(self, moved: Sequence[Moved]) -> ActionResult:
        """Move messages back where an action took them from (in the store, then the server)."""
        ...

    async def sync(self, account: str) -> SyncFinished:
        """Run one sync pass of an account; failures come back as an outcome, not raised."""
        ...

    async def outbox_count(self) -> int:
        """Messages waiting to be sent."""
        ...

    async def watch(self, folder_id: int) -> None:
        """Keep a folder up to date as the server announces changes, until cancelled."""
        ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with progress and sync events; returns the unsubscribe function."""
        ...


@dataclass(frozen=True, slots=True)
class Origin:
    """The message a reply or forward answers; it gets \\Answered or $Forwarded once sent."""

    message_id: int
    action: Literal["answered", "forwarded"]


@dataclass(frozen=True, slots=True)
class DraftSummary:
    """A saved draft as the drafts list shows it."""

    draft_id: int
    account: str
    subject: str
    to: tuple[str, ...]
    updated_at: int  # Unix seconds
    message_pk: int | None = None  # a message of a Drafts folder, not saved here (draft_id 0)


@dataclass(frozen=True, slots=True)
class WaitingMessage:
    """A message waiting in the outbox (delayed, scheduled or failed), as its list shows it."""

    message_id: str
    account: str
    subject: str
    to: tuple[str, ...]
    due: int  # Unix seconds; 0: at the next flush
    status: str  # queued or failed
    error: str = ""


class ComposeService(Protocol):
    """Everything the compose screen asks of the mail layer."""

    def identities(self, account: str) -> list[Identity]:
        """The account's From addresses, its main one first."""
        ...

    def new_draft(self, account: str) -> Draft:
        """An empty message from the account's main identity."""
        ...

    async def reply(self, account: str, message_id: int, mode: ReplyMode) -> Draft:
        """A reply to a stored message (to the sender, to all, or to the list)."""
        ...

    async def forward(self, account: str, message_id: int, *, inline: bool = True) -> Draft:
        """A forward of a stored message: inline with its attachments, or attached whole."""
        ...

    async def prepare_completion(self) -> None:
        """Bring the address ranking up to date with the store and read the vCard file."""
        ...

    async def complete(self, fragment: str, limit: int = 8) -> list[AddressSuggestion]:
        """Addresses starting with ``fragment`` (address, name or a word of it), best first."""
        ...

    async def ask_address_book(
        self, fragment: str, limit: int = 8
    ) -> list[AddressSuggestion] | None:
        """``complete`` with ``[ui] address_book_command``'s answer merged in; None when
        there is no command or it did not answer in time. May take seconds: run it aside."""
        ...

    async def drafts(self) -> list[DraftSummary]:
        """Saved drafts of every account, most recently edited first."""
        ...

    async def open_draft(self, draft_id: int) -> tuple[str, Draft]:
        """A saved draft to continue: its account and the editable value."""
        ...

    async def adopt_draft(self, message_pk: int) -> int:
        """Make a message of a Drafts folder a saved draft (postponing it replaces that copy)."""
        ...

    async def autosave(self, account: str, draft: Draft, draft_id: int | None) -> int:
        """Keep the draft in the store (crash-proof); returns its id."""
        ...

    async def postpone(self, account: str, draft: Draft, draft_id: int | None) -> int:
        """Save the draft and put it in the account's Drafts folder."""
        ...

    async def discard(self, draft_id: int) -> None:
        """Forget a saved draft."""
        ...

    async def submit(
        self,
        account: str,
        draft: Draft,
        draft_id: int | None,
        origin: Origin | None,
        send_at: int | None = None,
    ) -> str:
        """Commit the message to the outbox (no network), due at ``send_at`` (None: after the
        account's send_delay); returns its Message-ID."""
        ...

    async def waiting(self, message_id: str) -> int | None:
        """When ``message_id`` goes (Unix seconds) while it waits and can be taken back."""
        ...

    async def take_back(self, message_id: str) -> tuple[str, Draft, Origin | None]:
        """Undo send: the message out of the outbox as it was composed (MessageNotFound once it
        is being sent or gone)."""
        ...

    async def flush_due(self) -> list[str]:
        """Send every message that is due; a line for each the user should hear of (late ones,
        failures)."""
        ...

    async def waiting_messages(self) -> list[WaitingMessage]:
        """The outbox's messages that can still be taken back, the soonest due first."""
        ...

    async def flush(self, message_id: str) -> str:
        """Send what is due; one line on what became of ``message_id``."""
        ...
