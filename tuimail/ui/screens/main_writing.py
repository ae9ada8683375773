"""The main screen's writing actions: new message, reply, reply to all or the list, forward.

A mixin of ``MainScreen``: it prepares the draft in a worker, opens ``ComposeScreen`` and,
once the message is in the outbox, sends it behind in another worker and reports one line.
"""

from __future__ import annotations

from typing import Literal

from textual.screen import Screen

from tuimail.mail.compose import ReplyMode
from tuimail.mail.sanitize import sanitize_line
from tuimail.store.records import FolderState
from tuimail.sync.composing import ComposeService, Origin
from tuimail.sync.service import AccountFolders, MailService
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import ComposeReady, OutboxCounted
from tuimail.ui.screens.compose import ComposeScreen


class WritingActions(ReportsFailures, Screen[None]):
    """Compose, reply and forward from the message under the cursor (or the open one)."""

    service: MailService
    composer: ComposeService | None
    accounts: list[AccountFolders]
    folder: FolderState | None

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
        self.post_message(ComposeReady(account, self.composer.new_draft(account), None))

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

    def _prefill(self, mode: ReplyMode | Literal["forward"]) -> None:
        ids = self._targets()
        account = self._account_name()
        if self.composer is None or account is None or not ids:
            return
        self.run_worker(
            self._prefilled(self.composer, account, ids[0], mode),
            group="prefill",
            exclusive=True,
            description="preparing the reply" if mode != "forward" else "preparing the forward",
            exit_on_error=False,
        )

    async def _prefilled(
        self,
        composer: ComposeService,
        account: str,
        message_id: int,
        mode: ReplyMode | Literal["forward"],
    ) -> None:
        if mode == "forward":
            draft = await composer.forward(account, message_id)
            origin = Origin(message_id, "forwarded")
        else:
            draft = await composer.reply(account, message_id, mode)
            origin = Origin(message_id, "answered")
        self.post_message(ComposeReady(account, draft, origin))

    def on_compose_ready(self, message: ComposeReady) -> None:
        """Open the compose screen; once the message is in the outbox, send it behind."""
        composer = self.composer
        if composer is None:
            return

        def closed(message_id: str | None) -> None:
            if message_id is not None:
                self.run_worker(
                    self._send(composer, message_id),
                    group="send",
                    description="sending",
                    exit_on_error=False,
                )

        screen = ComposeScreen(composer, message.account, message.draft, origin=message.origin)
        self.app.push_screen(screen, closed)

    async def _send(self, composer: ComposeService, message_id: str) -> None:
        self.post_message(OutboxCounted(await self.service.outbox_count()))
        summary = await composer.flush(message_id)
        self.notify(sanitize_line(summary), markup=False, timeout=4)
        self.post_message(OutboxCounted(await self.service.outbox_count()))
