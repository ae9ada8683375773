"""The main screen's action queue: changes to messages run one at a time, in the order typed.

Keys come faster than the store answers. Run side by side, ``F`` then ``F`` both read the old
row and flag twice, ``Enter`` then ``N`` mark unread before the open marks read, and a row read
between two changes can land after the second. So each change is a step that waits its turn
(an ``asyncio.Lock`` wakes waiters first come, first served), decides from the store as it is
after the steps before it (which way a flag flips), and re-reads the rows it changed before the
next step starts: the index, the counts and the store agree after every step.

A mixin of ``MainScreen``, which shows each step's result (``show_result``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.screen import Screen
from textual.worker import Worker, WorkerError

from tuimail.sync.interface import ActionKind, ActionResult, MailAction, MailService
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.widgets.message_index import MessageIndex

Step = Callable[[], Awaitable[ActionResult]]


class ActionQueue(ReportsFailures, Screen[None]):
    """Run changes to messages in turn and show each one's result before the next runs."""

    service: MailService
    _turn: asyncio.Lock | None = None

    def show_result(self, result: ActionResult) -> None:
        """Show what a step changed (the screen's own; its changed rows are already read)."""
        raise NotImplementedError

    def queue_step(self, step: Step, description: str = "changing messages") -> None:
        """Run ``step`` after every step queued before it."""
        self.run_worker(
            self._in_turn(step), group="actions", description=description, exit_on_error=False
        )

    async def _in_turn(self, step: Step) -> None:
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            result = await step()
            if result.changed:
                self._index.replace_rows(result.changed, await self.service.rows(result.changed))
            if result != ActionResult():
                self.show_result(result)

    @property
    def _index(self) -> MessageIndex:
        return self.query_one(MessageIndex)

    def queue_action(self, action: MailAction) -> None:
        """Apply ``action`` in its turn."""
        self.queue_step(lambda: self.service.apply(action))

    def queue_flip(
        self, on: ActionKind, off: ActionKind, attribute: str, ids: tuple[int, ...]
    ) -> None:
        """Turn a flag on or off for ``ids``, the way the first one shows it when its turn comes
        (not as the index drew it when the key came: a change before it may be under way)."""

        async def flip() -> ActionResult:
            rows = await self.service.rows(ids[:1])
            if not rows:
                return ActionResult()
            kind = off if getattr(rows[0], attribute) else on
            return await self.service.apply(MailAction(kind, ids))

        self.queue_step(flip)

    def queue_opened(self, message_id: int, opening: Worker[None]) -> None:
        """Mark a message read once ``opening`` has fetched it, in the turn of the key that
        opened it: ``N`` typed right after ``Enter`` makes it unread again."""

        async def opened() -> ActionResult:
            try:
                await opening.wait()
            except WorkerError:  # not fetched: the user has not read it
                return ActionResult()
            return await self.service.mark_opened(message_id)

        self.queue_step(opened, "marking the message read")

    def queue_reread(self) -> None:
        """Read the index's rows again in turn (a sync changed the store beneath them)."""

        async def reread() -> ActionResult:
            ids = self._index.rows_to_reread()
            self._index.replace_rows(ids, await self.service.rows(ids))
            return ActionResult()

        self.queue_step(reread, "reading the message index")
