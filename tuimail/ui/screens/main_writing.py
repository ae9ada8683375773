"""The main screen's writing actions: new message, reply, reply to all or the list, forward
(inline or as an attachment), and reopening a saved draft.

A mixin of ``MainScreen``: it prepares the draft in a worker, opens ``ComposeScreen`` and,
once the message is in the outbox, hands it to ``SendingActions`` (undo send, then sending).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from textual.screen import Screen

from tuimail.mail.compose import Draft, ReplyMode
from tuimail.store.records import FolderState
from tuimail.sync.interface import (
    AccountFolders,
    ComposeService,
    DraftSummary,
    MailService,
    Origin,
)
from tuimail.ui.all_accounts import account_of
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import ComposeReady
from tuimail.ui.widgets.message_index import MessageIndex

ForwardMode = Literal["forward", "attached"]
FORWARDS: tuple[ForwardMode, ...] = ("forward", "attached")


class WritingActions(ReportsFailures, Screen[None]):
    """Compose, reply and forward from the message under the cursor (or the open one)."""

    service: MailService
    composer: ComposeService | None
    accounts: list[AccountFolders]
    folder: FolderState | None
    clock: Callable[[], datetime]
    # The message is in the outbox: send it, or count its delay down (``SendingActions``).
    sent_from_compose: Callable[[ComposeService, str], None]

    def _targets(self) -> tuple[int, ...]:
        raise NotImplementedError  # MainScreen knows which message is meant

    def _account_name(self) -> str | None:
        """The account of the open folder, else the first configured one."""
        if self.folder is not None:
            for account in self.accounts:
                if any(f.account_id == self.folder.account_id for f in account.folders):
                    return account.name
        return self.accounts[0].name if self.accounts else None

    def action_compose(self) -> None:
        """Write a new message from the open folder's account."""
        account = self._account_name()
        if self.composer is None or account is None:
            self.notify("No account to write from.", severity="warning")
            return
        # Opened at once, not through a message: keys typed right after m reach the new screen.
        self._open_compose(account, self.composer.new_draft(account), None, None)

    def action_reply(self) -> None:
        """Reply to the sender."""
        self._prefill("sender")

    def action_group_reply(self) -> None:
        """Reply to the sender and every other recipient."""
        self._prefill("all")

    def action_list_reply(self) -> None:
        """Reply to the mailing list."""
        self._prefill("list")

    def action_forward(self) -> None:
        """Forward inline, with the attachments."""
        self._prefill("forward")

    def action_forward_attached(self) -> None:
        """Forward the whole message as an attachment (message/rfc822)."""
        self._prefill("attached")

    def _prefill(self, mode: ReplyMode | ForwardMode) -> None:
        ids = self._targets()
        # The message's own account answers it (All inboxes, a search of all folders).
        row = self.query_one(MessageIndex).cached(ids[0]) if ids else None
        home = account_of(self.accounts, row.folder_id) if row is not None else None
        account = home or self._account_name()
        if self.composer is None or account is None or not ids:
            return
        self.run_worker(
            self._prefilled(self.composer, account, ids[0], mode),
            group="prefill",
            exclusive=True,
            description="preparing the forward" if mode in FORWARDS else "preparing the reply",
            exit_on_error=False,
        )

    async def _prefilled(
        self,
        composer: ComposeService,
        account: str,
        message_id: int,
        mode: ReplyMode | ForwardMode,
    ) -> None:
        if mode == "forward" or mode == "attached":
            draft = await composer.forward(account, message_id, inline=mode == "forward")
            origin = Origin(message_id, "forwarded")
        else:
            draft = await composer.reply(account, message_id, mode)
            origin = Origin(message_id, "answered")
        self.post_message(ComposeReady(account, draft, origin))

    def action_drafts(self) -> None:
        """List saved drafts; the one chosen opens in the compose screen."""
        if self.composer is None:
            return
        self.run_worker(
            self._list_drafts(self.composer),
            group="prefill",
            exclusive=True,
            description="listing the drafts",
            exit_on_error=False,
        )

    async def _list_drafts(self, composer: ComposeService) -> None:
        drafts = await composer.drafts()
        if not drafts:
            self.notify("No saved drafts.", timeout=3)
            return

        def chosen(draft: DraftSummary | None) -> None:
            if draft is not None:
                self.run_worker(
                    self._reopen(composer, draft),
                    group="prefill",
                    exclusive=True,
                    description="opening the draft",
                    exit_on_error=False,
                )

        from tuimail.ui.screens.draft_picker import DraftPicker

        self.app.push_screen(DraftPicker(drafts, self.clock), chosen)

    async def _reopen(self, composer: ComposeService, chosen: DraftSummary) -> None:
        draft_id = chosen.draft_id
        if chosen.message_pk is not None:  # from a Drafts folder: saved here from now on
            draft_id = await composer.adopt_draft(chosen.message_pk)
        account, draft = await composer.open_draft(draft_id)
        self.post_message(ComposeReady(account, draft, None, draft_id))

    def on_compose_ready(self, message: ComposeReady) -> None:
        """A prefilled draft is ready: open it."""
        self._open_compose(message.account, message.draft, message.origin, message.draft_id)

    def _open_compose(
        self, account: str, draft: Draft, origin: Origin | None, draft_id: int | None
    ) -> None:
        """Open the compose screen; once the message is in the outbox, send it behind."""
        composer = self.composer
        if composer is None:
            return

        def closed(message_id: str | None) -> None:
            if message_id is not None:
                self.sent_from_compose(composer, message_id)

        # Loaded on first use (the app also loads it once the store is open): the editor's
        # widgets are not part of the first screen.
        from tuimail.ui.screens.compose import ComposeScreen

        screen = ComposeScreen(composer, account, draft, origin=origin, draft_id=draft_id)
        self.app.push_screen(screen, closed)
