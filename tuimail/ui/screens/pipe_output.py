"""The pager for a piped command: its output as it arrives, then how it ended.

The screen runs the pipe in its own worker: bodies not yet in the store are fetched first (as
opening a message does), then the command runs, and the interface stays usable meanwhile.
Closing the screen (q or Escape) while the command still runs stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.interface import MailService
from tuimail.sync.piping import PipeResult, raw_inputs, run_pipe, text_inputs
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.screens.main_clipboard import plain_text
from tuimail.ui.screens.pipe_prompt import PipeRequest

RUNNING_HINT = "   q or Esc stops it"
DONE_HINT = "   j k ← → scroll; q or Esc closes"


def ending(result: PipeResult) -> str:
    """One line on how the command ended: its exit status, or how many of its runs failed."""
    failed, many = result.failed, len(result.statuses)
    if not failed:
        text = "exit status 0" if many == 1 else f"{many} runs, each exit status 0"
    else:
        status = failed[-1]
        said = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        text = said if many == 1 else f"{len(failed)} of {many} runs failed ({said})"
    if result.dropped:
        text += f"; {result.dropped:,} more bytes of output not shown"
    return text


class PipeOutput(ReportsFailures, ModalScreen[None]):
    """A scrollable pager over the command's sanitised output, with its exit status below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "close", "Close", id="pipe_output_close"),
        Binding("j", "scroll('down')", "Down", id="pipe_output_down", show=False),
        Binding("k", "scroll('up')", "Up", id="pipe_output_up", show=False),
        Binding("g", "scroll('home')", "Top", id="pipe_output_top", show=False),
        Binding("G", "scroll('end')", "Bottom", id="pipe_output_bottom", show=False),
    ]

    def __init__(
        self, service: MailService, ids: Sequence[int], request: PipeRequest, *, split: bool
    ) -> None:
        super().__init__()
        self._service = service
        self._ids = tuple(ids)
        self.request = request
        self._split = split
        self.result: PipeResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="pipe-output"):
            yield Static(Content(f"| {sanitize_line(self.request.command)}"), id="pipe-command")
            yield Log(id="pipe-log", auto_scroll=False)
            yield Static(Content(f"running…{RUNNING_HINT}"), id="pipe-status")

    @property
    def log_lines(self) -> list[str]:
        """The output shown so far, line by line."""
        return list(self.query_one(Log).lines)

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.run_worker(self._run(), group="pipe", description="piping", exit_on_error=False)

    async def _run(self) -> None:
        rows = {row.id: row for row in await self._service.rows(self._ids)}
        messages = [
            (rows[message_id], await self._service.open_message(message_id))
            for message_id in self._ids
            if message_id in rows
        ]
        if self.request.decode:
            texts = [await asyncio.to_thread(plain_text, raw) for _row, raw in messages]
            inputs = text_inputs(texts, split=self._split)
        else:
            inputs = raw_inputs(messages, split=self._split)
        log = self.query_one(Log)
        status = self.query_one("#pipe-status", Static)

        def show(text: str) -> None:
            log.write(text)

        try:
            result = await run_pipe(self.request.command, inputs, show)
        except OSError as error:  # the shell itself could not start
            status.update(Content(sanitize_line(f"could not run: {error}")))
            status.add_class("-failed")
            raise
        self.result = result
        status.update(Content(f"{ending(result)}{DONE_HINT}"))
        status.set_class(bool(result.failed), "-failed")

    def action_scroll(self, where: str) -> None:
        """Move through the output like a pager."""
        log = self.query_one(Log)
        {
            "down": log.scroll_down,
            "up": log.scroll_up,
            "home": log.scroll_home,
            "end": log.scroll_end,
        }[where]()

    def action_close(self) -> None:
        """Back to the mail; a command still running is stopped."""
        self.workers.cancel_group(self, "pipe")
        self.dismiss(None)
