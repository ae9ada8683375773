"""Leaving from the main screen: ``q`` on the index asks first (``[ui] confirm_quit``), and
the question says what quitting leaves undone: unsent mail in the outbox, a bulk action.

A mixin of ``MainScreen``. ``y``, or ``q`` again, quits; ``n`` or Escape stays.
"""

from __future__ import annotations

from textual.screen import Screen

from tuimail.config import UIConfig
from tuimail.sync import bulk
from tuimail.sync.interface import MailService
from tuimail.ui.jobs import ReportsFailures


class QuitActions(ReportsFailures, Screen[None]):
    """Quit after a confirmation that names what is still pending."""

    service: MailService
    ui: UIConfig
    _bulk_running: bool
    _quit_asked = False  # q pressed, its question not answered yet

    def quit_after_asking(self) -> None:
        """Quit now if ``confirm_quit`` is off; else ask (the outbox is counted first)."""
        if not self.ui.confirm_quit or self._quit_asked:
            # A second q typed before the question showed (the outbox is counted first) is
            # the "q again" that quits, not a reason to ask twice.
            self.app.exit()
            return
        self._quit_asked = True
        self.run_worker(
            self._ask_to_quit(),
            group="quit",
            exclusive=True,
            description="counting the outbox",
            exit_on_error=False,
        )

    async def _ask_to_quit(self) -> None:
        question = ["Quit tuimail?"]
        waiting = await self.service.outbox_count()
        if waiting:
            many = "is" if waiting == 1 else "are"
            question.append(
                f"{bulk.count_text(waiting)} in the outbox {many} not sent yet "
                "(it stays queued: tuimail outbox --flush sends it)."
            )
        if self._bulk_running:
            question.append("A bulk action is running: quitting stops it; what it did stays done.")

        def answered(answer: str | None) -> None:
            self._quit_asked = False
            if answer in ("y", "q"):
                self.app.exit()

        answers = {"y": "quit", "q": "quit", "n": "stay"}
        from tuimail.ui.screens.choice import ChoiceScreen

        self.app.push_screen(ChoiceScreen(" ".join(question), answers), answered)
