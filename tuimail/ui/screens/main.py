"""The main screen: folder tree, message index and message view, and the routes between them.

Wide terminals show the three panes at once (the view right of or below the index); below
``NARROW_WIDTH`` columns one pane shows at a time: Enter goes in, q comes back out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import ClassVar, Literal

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tuimail.config import UIConfig
from tuimail.mail.sanitize import sanitize_line
from tuimail.mail.threads import ThreadRow
from tuimail.store.first_screen import FirstScreen
from tuimail.store.records import FolderState
from tuimail.sync import bulk
from tuimail.sync.interface import (
    AccountFolders,
    ActionKind,
    ActionResult,
    ComposeService,
    MailAction,
    MailService,
    ServiceEvent,
    SyncFinished,
)
from tuimail.ui import keys, notify
from tuimail.ui.all_accounts import line_owners, virtual_folder
from tuimail.ui.messages import (
    AccountsLoaded,
    ActionApplied,
    FolderChosen,
    FolderLoaded,
    MessageLoaded,
    OpenMessage,
    OutboxCounted,
    SearchLoaded,
    SyncDone,
    SyncProgressed,
    ThreadsToggled,
)
from tuimail.ui.screens.main_clipboard import ClipboardActions
from tuimail.ui.screens.main_conversation import ConversationActions
from tuimail.ui.screens.main_pipe import PipeActions
from tuimail.ui.screens.main_queue import ActionQueue
from tuimail.ui.screens.main_quit import QuitActions
from tuimail.ui.screens.main_search import SearchActions
from tuimail.ui.screens.main_sending import SendingActions
from tuimail.ui.screens.main_tags import TagActions
from tuimail.ui.screens.main_undo import UndoActions
from tuimail.ui.screens.main_writing import WritingActions
from tuimail.ui.widgets.bulk_progress import BulkProgress
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.message_view import MessageView
from tuimail.ui.widgets.status_bar import StatusBar

NARROW_WIDTH = 100
FIRST_LINES = 300  # more than a terminal shows
Pane = Literal["folders", "index", "view"]
PANES: tuple[Pane, ...] = ("folders", "index", "view")


class MainScreen(
    SearchActions,
    WritingActions,
    TagActions,
    SendingActions,
    UndoActions,
    QuitActions,
    ClipboardActions,
    PipeActions,
    ConversationActions,
    ActionQueue,
    Screen[None],
):
    """Reading mail."""

    KEY_SCOPE: ClassVar[keys.Scope] = "main"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("main"))

    def __init__(
        self,
        service: MailService,
        ui: UIConfig,
        clock: Callable[[], datetime],
        composer: ComposeService | None = None,
        *,
        watch: bool = True,
        first: FirstScreen | None = None,
    ) -> None:
        super().__init__()
        self.first = first  # the store's first screen, read before the store was open
        self.watch_folders = watch  # IDLE on the open folder (off in tests that stay offline)
        self.service = service
        self.composer = composer
        self.ui = ui
        self.clock = clock
        self.threaded = ui.threads
        self.layout_mode: Literal["right", "below"] = ui.layout
        self.pane: Pane = "index"
        self.accounts: list[AccountFolders] = []
        self.folder: FolderState | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._reload_if_changed = False
        self.search: SearchLoaded | None = None  # the search or limit the index shows
        self._showing: int | None = None  # the message opened last
        self._last_target: dict[int, int] = {}  # account id -> the folder last moved/copied to

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield FolderTree(id="folders")
            with Container(id="reader", classes=f"-{self.layout_mode}"):
                yield MessageIndex(self.service.rows, self.clock, id="index")
                yield MessageView(id="view")
        yield BulkProgress(id="bulk")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def index(self) -> MessageIndex:
        """The message index."""
        return self.query_one(MessageIndex)

    @property
    def view(self) -> MessageView:
        """The message view."""
        return self.query_one(MessageView)

    @property
    def status(self) -> StatusBar:
        """The status line."""
        return self.query_one(StatusBar)

    @property
    def narrow(self) -> bool:
        """Whether one pane shows at a time."""
        return self.has_class("-narrow")

    def on_mount(self) -> None:
        self._unsubscribe = self.service.subscribe(self._on_service_event)
        self._set_narrow(self.app.size.width < NARROW_WIDTH)
        self.index.focus()
        self.status.set_outbox(0)
        first, self.first = self.first, None
        if first is None:
            self.load_accounts()
        else:  # shown in this first frame, without a round trip through workers and messages
            self.index.preload(first.rows.values())
            self._show_accounts([AccountFolders(name, folders) for name, folders in first.accounts])
            if first.folder_id is not None:
                self._show_order(first.folder_id, list(first.head), None, None)
        self.run_worker(
            self._count_outbox(), description="counting the outbox", exit_on_error=False
        )

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_resize(self, event: events.Resize) -> None:
        self._set_narrow(event.size.width < NARROW_WIDTH)

    def _set_narrow(self, narrow: bool) -> None:
        self.set_class(narrow, "-narrow")
        self._show_pane(self.pane)

    def _show_index(self) -> None:
        self._show_pane("index")

    def _show_pane(self, pane: Pane) -> None:
        self.pane = pane
        # One restyle of the whole screen for the three classes, not one each (~30 ms apiece).
        self.update_classes({f"-pane-{name}": name == pane for name in PANES})
        target: Widget = {"folders": self.query_one(FolderTree), "index": self.index}.get(
            pane, self.view.body
        )
        target.focus()

    # -- service events (called by the service, turned into messages) -------------------------

    def _on_service_event(self, event: ServiceEvent) -> None:
        if isinstance(event, SyncFinished):
            self.post_message(SyncDone(event))
        else:
            self.post_message(SyncProgressed(event))

    def on_sync_progressed(self, message: SyncProgressed) -> None:
        """Show how far an account's sync is."""
        self.status.sync_progress(message.progress)

    def on_sync_done(self, message: SyncDone) -> None:
        """Counts and the open folder follow a sync; errors and new mail are announced."""
        outcome = message.finished.outcome
        self.status.sync_done(outcome.account, outcome.ok)
        if not outcome.ok:
            self.notify(
                sanitize_line(f"{outcome.account}: {outcome.summary}"),
                title="Sync failed",
                severity="error",
                markup=False,
            )
            return
        new = message.finished.new_messages
        if new:
            text = f"{outcome.account}: {new} new message{'s' if new != 1 else ''}"
            self.status.set_notice(text)
            self.notify(sanitize_line(text), markup=False)
        if message.finished.arrived is not None:  # news from outside: bell, notification, command
            notify.tell(self.app, self.ui, message.finished.arrived)
        # The open folder's order is read again only if the sync changed its counts; its rows
        # always (a flag changed on the server leaves the counts as they were).
        self._reload_if_changed = True
        self.load_accounts()
        self.queue_reread()

    async def _count_outbox(self) -> None:
        self.post_message(OutboxCounted(await self.service.outbox_count()))

    def on_outbox_counted(self, message: OutboxCounted) -> None:
        """Messages waiting to be sent."""
        self.status.set_outbox(message.count)

    # -- folders ------------------------------------------------------------------------------

    def load_accounts(self) -> None:
        """Read accounts and folder counts again."""
        self.run_worker(
            self._load_accounts(),
            group="accounts",
            exclusive=True,
            description="reading the folder list",
            exit_on_error=False,
        )

    async def _load_accounts(self) -> None:
        self.post_message(AccountsLoaded(await self.service.accounts()))

    def on_accounts_loaded(self, message: AccountsLoaded) -> None:
        """Show the folders; open the first Inbox when nothing is open yet."""
        self._show_accounts(message.accounts)

    def _show_accounts(self, accounts: list[AccountFolders]) -> None:
        self.accounts = accounts
        self.query_one(FolderTree).set_accounts(accounts)
        if self.folder is None:
            first = next((a.folders for a in accounts if a.folders), ())
            inbox = next((f for f in first if f.role == "inbox"), first[0] if first else None)
            if inbox is not None:
                self.open_folder(inbox.id)
            return
        before = self.folder
        self._locate(before.id)
        if self._reload_if_changed and self.folder != before:
            self.index.forget(None)
            if self.search is not None:
                self._run_search(
                    self.search.text, self.search.query, self.search.folder_id, self.search.limited
                )
            else:
                self.open_folder(before.id, keep=self.index.current_id)
        self._reload_if_changed = False

    def _locate(self, folder_id: int) -> None:
        virtual = virtual_folder(self.accounts, folder_id)
        if virtual is not None:  # its counts are its folders' counts, read with them
            self.folder = virtual
            # The status line counts what the index shows (flagged mail has no stored count).
            shown = replace(virtual, total_count=self.index.count)
            self.status.set_location("all accounts", shown)
            return
        for account in self.accounts:
            for folder in account.folders:
                if folder.id == folder_id:
                    self.folder = folder
                    self.status.set_location(account.name, folder)

    def open_folder(self, folder_id: int, keep: int | None = None) -> None:
        """Load a folder's order into the index (a worker: a big folder takes a moment)."""
        self.run_worker(
            self._open_folder(folder_id, self.threaded, keep),
            group="folder",
            exclusive=True,
            description="opening the folder",
            exit_on_error=False,
        )

    async def _open_folder(self, folder_id: int, threaded: bool, keep: int | None) -> None:
        if threaded:
            threads = await self.service.thread_rows(folder_id)
            ids = [row.key for row in threads]
            self.post_message(FolderLoaded(folder_id, ids, threads, keep))
        else:
            if keep is None and (self.folder is None or self.folder.id != folder_id):
                # The top of a newly opened folder shows before the whole order has been read
                # (a 100k folder's ids take a few hundred ms); it is a prefix of that order.
                head = await self.service.message_ids(folder_id, FIRST_LINES)
                self.post_message(FolderLoaded(folder_id, head, None, None))
            ids = await self.service.message_ids(folder_id)
            self.post_message(FolderLoaded(folder_id, ids, None, keep))

    def on_folder_loaded(self, message: FolderLoaded) -> None:
        """Show the folder's messages."""
        self._show_order(message.folder_id, message.ids, message.threads, message.keep)

    def _show_order(
        self, folder_id: int, ids: list[int], threads: list[ThreadRow] | None, keep: int | None
    ) -> None:
        self.search = None
        self.status.set_search(None)
        changed = self.folder is None or self.folder.id != folder_id
        self.index.set_order(folder_id, ids, threads, keep)
        self.index.name_folders(line_owners(self.accounts, folder_id))  # a virtual folder's
        self._locate(folder_id)
        if changed:
            self.query_one(FolderTree).select_folder(folder_id)
            if self.watch_folders:
                self._watch(folder_id)

    def _watch(self, folder_id: int) -> None:
        """Follow the open folder through IDLE; opening another folder replaces the watch."""
        self.run_worker(
            self.service.watch(folder_id),
            group="watch",
            exclusive=True,
            description="watching the folder",
            exit_on_error=False,
        )

    def on_folder_chosen(self, message: FolderChosen) -> None:
        """Open the folder picked in the tree and go to its index."""
        self.open_folder(message.folder_id)
        self._show_pane("index")

    def on_threads_toggled(self, message: ThreadsToggled) -> None:
        """Switch between date order and threads, keeping the cursor's message."""
        self.threaded = not self.threaded
        if self.folder is not None:
            self.open_folder(self.folder.id, keep=self.index.current_id)
        self.notify("Threads" if self.threaded else "Newest first", timeout=2)

    # -- reading ------------------------------------------------------------------------------

    def action_open_message(self) -> None:
        """Read the message under the index's cursor (at once: a key typed next comes after)."""
        if self.index.current_id is not None:
            self.on_open_message(OpenMessage(self.index.current_id))

    def action_open_with_headers(self) -> None:
        """Read the message under the index's cursor with every header (mutt's ``h``)."""
        self.view.all_headers = True
        self.action_open_message()

    def on_open_message(self, message: OpenMessage) -> None:
        """Fetch the message's bytes; once fetched it is marked read, in the key's turn."""
        self._showing = message.message_id
        opening = self.run_worker(
            self._open_message(message.message_id),
            group="open",
            description="opening the message",
            exit_on_error=False,
        )
        self.queue_opened(message.message_id, opening)

    async def _open_message(self, message_id: int) -> None:
        raw = await self.service.open_message(message_id)
        if message_id == self._showing:  # else a message opened after this one shows instead
            self.post_message(MessageLoaded(message_id, raw))

    def on_message_loaded(self, message: MessageLoaded) -> None:
        """Show the message; in the narrow layout the view takes the screen."""
        self.view.show(message.message_id, message.raw)
        if self.narrow:
            self._show_pane("view")

    # -- actions on messages ------------------------------------------------------------------

    def _targets(self) -> tuple[int, ...]:
        """Tagged messages after ``;``; else the message the focused pane shows: the open one in
        the view, the one under the cursor in the index, none in the folder tree; the one under
        a conversation's cursor while it runs an action (``act_on``)."""
        if self._chosen is not None:
            return self._chosen
        tagged = self._tagged_targets()
        if tagged is not None:
            return tagged
        pane = self._focused_pane()
        if pane == "view":
            shown = self.view.message_id
        elif pane == "index":
            shown = self.index.current_id
        else:  # the keys are not bound there; this guards a call from anywhere else
            shown = None
        return (shown,) if shown is not None else ()

    def _apply(self, kind: ActionKind, ids: tuple[int, ...], target: int | None = None) -> None:
        if len(ids) > bulk.BATCH:  # many (tagged) messages: in batches, with progress
            self.run_bulk(MailAction(kind, ids, target))
        elif ids:
            self.queue_action(MailAction(kind, ids, target))

    def on_action_applied(self, message: ActionApplied) -> None:
        """A change made elsewhere (bulk, undo): shown in turn with the queued ones."""
        result = message.result

        async def done() -> ActionResult:
            return result

        self.queue_step(done)

    def show_result(self, result: ActionResult) -> None:
        """Take moved messages out, refresh the counts (changed rows are already re-read)."""
        if result.removed:
            self.index.drop(result.removed)
            if self.view.message_id in result.removed:
                self.view.clear()
                if self.narrow and self.pane == "view":
                    self._show_pane("index")
        summary = self.undoable(result)
        if summary:  # where the messages went, until the next note
            self.status.set_notice(summary)
            self.notify(sanitize_line(summary), markup=False, timeout=3)
        self.load_accounts()
        self.tell_listeners(result)

    def _flip(self, on: ActionKind, off: ActionKind, attribute: str) -> None:
        ids = self._targets()
        row = self.index.cached(ids[0]) if len(ids) > bulk.BATCH else None
        if row is not None:  # a bulk action goes by the row as drawn
            self._apply(off if getattr(row, attribute) else on, ids)
        elif ids:
            self.queue_flip(on, off, attribute, ids)

    def action_toggle_read(self) -> None:
        """Mark read or unread."""
        self._flip("seen", "unseen", "seen")

    def action_flag(self) -> None:
        """Flag or unflag."""
        self._flip("flag", "unflag", "flagged")

    def action_delete(self) -> None:
        """Move to Trash; inside Trash, delete for good (after asking: no undo for that)."""
        ids = self._targets()
        self.confirm_delete(ids, lambda: self._apply("delete", ids))

    def action_move(self) -> None:
        """Move to a folder of this account."""
        self._pick("move")

    def action_copy(self) -> None:
        """Copy to a folder of this account."""
        self._pick("copy")

    def _pick(self, kind: ActionKind) -> None:
        ids = self._targets()
        if not ids or self.folder is None:
            return
        self.with_folders_of(ids, lambda homes: self._pick_for(kind, ids, homes))

    def _pick_for(self, kind: ActionKind, ids: tuple[int, ...], homes: list[int]) -> None:
        """Offer the folders of the one account that holds every message of ``ids``."""
        if len(homes) != len(ids):
            self.notify("Some of these messages are gone; nothing was moved.", severity="warning")
            return
        # The messages' own account and folder (a virtual folder holds several of each).
        sources = set(homes)
        owners = {f.account_id for a in self.accounts for f in a.folders if f.id in sources}
        if len(owners) != 1:
            self.notify("Move or copy messages of one account at a time.", severity="warning")
            return
        account_id = owners.pop()
        folders = [
            folder
            for account in self.accounts
            for folder in account.folders
            if folder.account_id == account_id and {folder.id} != sources
        ]
        many = "1 message" if len(ids) == 1 else f"{len(ids)} messages"
        title = f"{'Move' if kind == 'move' else 'Copy'} {many} to"

        def chosen(folder_id: int | None) -> None:
            if folder_id is not None:
                self._last_target[account_id] = folder_id
                self._apply(kind, ids, folder_id)

        last = self._last_target.get(account_id)
        from tuimail.ui.screens.folder_picker import FolderPicker

        self.app.push_screen(FolderPicker(title, folders, last), chosen)

    def action_not_ready(self, binding_id: str) -> None:
        """Bound now, built later: say so in one line."""
        entry = keys.BY_ID[binding_id]
        self.notify(f"{entry.description}: not available yet", timeout=3)

    # -- panes --------------------------------------------------------------------------------

    def _focused_pane(self) -> Pane:
        focused = self.focused
        if focused is None:
            return self.pane
        if self.view in focused.ancestors_with_self:
            return "view"
        if focused is self.index:
            return "index"
        return "folders" if isinstance(focused, FolderTree) else self.pane

    def action_back(self) -> None:
        """Out of the view to the index; in the narrow layout on to the folders; then quit."""
        pane = self._focused_pane()
        if pane == "view":
            self._show_pane("index")
        elif pane == "index" and self.search is not None:
            self._leave_search()
        elif pane == "index" and self.narrow:
            self._show_pane("folders")
        else:
            self.quit_after_asking()

    def action_next_pane(self) -> None:
        """The next pane (in the narrow layout it replaces the current one)."""
        position = PANES.index(self._focused_pane())
        self._show_pane(PANES[(position + 1) % len(PANES)])

    def action_previous_pane(self) -> None:
        """The previous pane."""
        position = PANES.index(self._focused_pane())
        self._show_pane(PANES[(position - 1) % len(PANES)])

    def action_toggle_layout(self) -> None:
        """The message view right of the index, or below it."""
        self.layout_mode = "below" if self.layout_mode == "right" else "right"
        reader = self.query_one("#reader")
        reader.set_class(self.layout_mode == "right", "-right")
        reader.set_class(self.layout_mode == "below", "-below")
