"""The Textual messages that cross widgets: the events of the app, readable in one place.

Workers post these with their results; the screen routes them between widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from textual.message import Message

from tuimail.mail.compose import Draft
from tuimail.mail.query import Query
from tuimail.mail.render import RenderedMessage
from tuimail.mail.threads import ThreadRow
from tuimail.store.records import MessageRow
from tuimail.sync.interface import AccountFolders, ActionResult, Origin, SyncFinished, SyncProgress

if TYPE_CHECKING:
    from tuimail.sync.onboarding import Proposal


@dataclass
class JobFailed(Message):
    """A worker failed; the app turns this into one notification and a trace in the log."""

    what: str
    error: BaseException


@dataclass
class AccountsLoaded(Message):
    """The accounts and their folders (with counts) as the store has them now."""

    accounts: list[AccountFolders]


@dataclass
class FolderChosen(Message):
    """The user picked a folder in the folder tree."""

    folder_id: int


@dataclass
class FolderLoaded(Message):
    """A folder's order is known: ids newest first, or thread rows when threaded."""

    folder_id: int
    ids: list[int]
    threads: list[ThreadRow] | None
    keep: int | None  # message id to keep the cursor on, if it is still there


class IndexPainted(Message):
    """The index drew its first line from a real row: the first screen is up."""


@dataclass
class IndexPageLoaded(Message, bubble=False):
    """Rows for the index's cache arrived from the store (posted to the index itself)."""

    generation: int
    page: int
    rows: list[MessageRow]


@dataclass
class ThreadsToggled(Message):
    """The user switched the index between date order and threads."""


@dataclass
class OpenMessage(Message):
    """The user asked to read a message."""

    message_id: int


@dataclass
class MessageLoaded(Message):
    """A message's bytes are here, ready for the message view."""

    message_id: int
    raw: bytes


@dataclass
class MessageRendered(Message, bubble=False):
    """The message view's text is laid out (posted to the view itself)."""

    message_id: int
    rendered: RenderedMessage


@dataclass
class ActionApplied(Message):
    """An action on messages is done; the index and folder counts follow."""

    result: ActionResult


@dataclass
class SyncProgressed(Message):
    """Progress of one account's sync."""

    progress: SyncProgress


@dataclass
class SyncDone(Message):
    """One account's sync pass ended (well or not)."""

    finished: SyncFinished


@dataclass
class TagsChanged(Message):
    """How many messages of the index are tagged now."""

    count: int


@dataclass
class OutboxCounted(Message):
    """How many messages wait in the outbox."""

    count: int


@dataclass
class ComposeReady(Message):
    """A prefilled draft (new, reply, forward) is ready for the compose screen."""

    account: str
    draft: Draft
    origin: Origin | None
    draft_id: int | None = None  # a saved draft reopened: saving updates it


@dataclass
class DraftSaved(Message):
    """The compose screen's draft reached the store; ``postponed``: also the Drafts folder."""

    draft_id: int
    draft: Draft
    postponed: bool


@dataclass
class MessageSubmitted(Message):
    """A written message is in the outbox; sending it is the next step."""

    message_id: str


@dataclass
class SearchLoaded(Message):
    """Ids matching a search (newest first) for the index to show as a virtual folder."""

    text: str
    query: Query
    folder_id: int | None  # the folder searched; None: all folders
    limited: bool  # a limit of the open folder (``l``) rather than a search
    ids: list[int]


@dataclass
class ServersProposed(Message):
    """The setup form's server search finished: servers to fill in, and a line about them."""

    proposal: Proposal


@dataclass
class SetupStatus(Message):
    """One line for the setup form's status: work going on, a step passed, or what failed."""

    text: str
    level: Literal["busy", "ok", "error"]


@dataclass
class AccountSaved(Message):
    """The setup form tested and wrote the account ``name``."""

    name: str
