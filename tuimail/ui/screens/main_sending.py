"""The main screen's side of the outbox: undo send, and sending what comes due.

A message sent from the compose screen waits its account's ``send_delay`` in the outbox. The
status line counts down ("Sending in 8 s, u to undo"); ``u`` takes it back into the compose
screen as it was, unless a move or delete came after it (``u`` undoes the most recent thing).
Once a flush has claimed it, it can no longer be taken back and the status line says so.

While the interface runs it sends whatever comes due (a scheduled message, one left from a quit
or a crash) every ``OUTBOX_SECONDS``, and once at start, where a message that came due while no
tuimail ran is announced as late.

A mixin of ``MainScreen``, before ``UndoActions`` so that ``u`` asks here first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from textual.timer import Timer

from tuimail.errors import MessageNotFound
from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.interface import ActionResult, ComposeService, WaitingMessage
from tuimail.ui.messages import ComposeReady, OutboxCounted
from tuimail.ui.screens.main_undo import UndoActions
from tuimail.ui.widgets.status_bar import StatusBar

COUNTDOWN_LIMIT = 3600  # due later than this: a scheduled message, announced, not counted down


@dataclass(frozen=True)
class _Waiting:
    message_id: str
    due: int
    undoable: bool = True  # False once a move or delete came after it


class SendingActions(UndoActions):
    """Count down a message's send delay, take it back on ``u``, send what comes due."""

    OUTBOX_SECONDS: ClassVar[float] = 15.0

    composer: ComposeService | None
    _waiting: _Waiting | None = None
    _countdown: Timer | None = None

    def on_mount(self) -> None:
        if self.composer is not None:
            self._flush_due()  # what came due while no tuimail ran goes now, announced late
            self.set_interval(self.OUTBOX_SECONDS, self._flush_due)

    # -- after the compose screen put a message in the outbox ----------------------------------

    def sent_from_compose(self, composer: ComposeService, message_id: str) -> None:
        """Count down a waiting message, or send one that is due now."""
        self.run_worker(
            self._after_submit(composer, message_id),
            group="send",
            description="sending",
            exit_on_error=False,
        )

    async def _after_submit(self, composer: ComposeService, message_id: str) -> None:
        self.post_message(OutboxCounted(await self.service.outbox_count()))
        due = await composer.waiting(message_id)
        if due is None:  # no delay: at once, as before
            await self._send_now(composer, message_id)
            return
        if due - time.time() > COUNTDOWN_LIMIT:
            from datetime import UTC, datetime

            from tuimail.mail.when import describe

            now = datetime.now(UTC)
            words = describe(datetime.fromtimestamp(due, UTC), now)
            self._status(f"Scheduled for {words}")
            self.notify(f"Scheduled for {words}", timeout=4)
            return
        self._waiting = _Waiting(message_id, due)
        if self._countdown is not None:
            self._countdown.stop()
        self._countdown = self.set_interval(1.0, self._tick)
        self._tick()

    def _tick(self) -> None:
        waiting, composer = self._waiting, self.composer
        if waiting is None or composer is None:
            return
        left = waiting.due - int(time.time())
        if left > 0:
            undo = ", u to undo" if waiting.undoable else ""
            self._status(f"Sending in {left} s{undo}")
            return
        self._stop_countdown(keep=True)  # until sent, u says it is too late
        self._status("Sending…")
        self.run_worker(
            self._send_now(composer, waiting.message_id),
            group="send",
            description="sending",
            exit_on_error=False,
        )

    def _stop_countdown(self, *, keep: bool = False) -> None:
        if not keep:
            self._waiting = None
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    async def _send_now(self, composer: ComposeService, message_id: str) -> None:
        try:
            summary = await composer.flush(message_id)
        finally:
            if self._waiting is not None and self._waiting.message_id == message_id:
                self._waiting = None
        self._status(summary)
        self.notify(sanitize_line(summary), markup=False, timeout=4)
        self.post_message(OutboxCounted(await self.service.outbox_count()))

    def _status(self, text: str) -> None:
        self.query_one(StatusBar).set_notice(text)

    # -- undo ------------------------------------------------------------------------------------

    def undoable(self, result: ActionResult) -> str:
        """A move after the send is the most recent thing: ``u`` undoes it, not the send."""
        if result.moved and self._waiting is not None:
            self._waiting = _Waiting(self._waiting.message_id, self._waiting.due, undoable=False)
        return super().undoable(result)

    def action_undo(self) -> None:
        """Take back the message counting down, if it is the most recent thing; else undo the
        last move or delete."""
        waiting, composer = self._waiting, self.composer
        if waiting is None or not waiting.undoable or composer is None:
            super().action_undo()
            return
        self._stop_countdown()
        self.run_worker(
            self._take_back(composer, waiting.message_id),
            group="send",
            description="taking the message back",
            exit_on_error=False,
        )

    async def _take_back(self, composer: ComposeService, message_id: str) -> None:
        try:
            account, draft, origin = await composer.take_back(message_id)
        except MessageNotFound:
            self._status("Already being sent: it can no longer be undone")
            self.notify("Already being sent: it can no longer be undone", timeout=4)
            return
        self._status("Not sent: back in the editor")
        self.post_message(OutboxCounted(await self.service.outbox_count()))
        self.post_message(ComposeReady(account, draft, origin))

    # -- the outbox list ------------------------------------------------------------------------

    def action_outbox(self) -> None:
        """List what waits in the outbox; the one chosen comes back into the editor."""
        if self.composer is not None:
            self.run_worker(
                self._list_outbox(self.composer),
                group="prefill",
                exclusive=True,
                description="listing the outbox",
                exit_on_error=False,
            )

    async def _list_outbox(self, composer: ComposeService) -> None:
        waiting = await composer.waiting_messages()
        if not waiting:
            self.notify("Nothing waits in the outbox.", timeout=3)
            return

        def chosen(message: WaitingMessage | None) -> None:
            if message is not None:
                if self._waiting is not None and self._waiting.message_id == message.message_id:
                    self._stop_countdown()
                self.run_worker(
                    self._take_back(composer, message.message_id),
                    group="send",
                    description="taking the message back",
                    exit_on_error=False,
                )

        from tuimail.ui.screens.outbox_picker import OutboxPicker

        self.app.push_screen(OutboxPicker(waiting), chosen)

    # -- what comes due while the interface runs -------------------------------------------------

    def _flush_due(self) -> None:
        if self.composer is not None:
            self.run_worker(
                self._flush(self.composer),
                group="outbox",
                exclusive=False,
                description="sending what is due",
                exit_on_error=False,
            )

    async def _flush(self, composer: ComposeService) -> None:
        if self._countdown is not None:
            return  # the countdown's own flush sends it and whatever else is due, and says so
        lines = await composer.flush_due()
        for line in lines:
            self._status(line)
            self.notify(sanitize_line(line), markup=False, timeout=8)
        self.post_message(OutboxCounted(await self.service.outbox_count()))
