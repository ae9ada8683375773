"""Ask when to send: "tomorrow 9:00", "mon 8am", "+2h", "in 30 min" or an ISO time, local time.

The time is said back in words as it is typed ("Tuesday 8 December 09:00"), so the user sees
what Enter will confirm; a text that names no time, or a past one, says why and stays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuimail.mail.sanitize import sanitize_line
from tuimail.mail.when import WhenError, describe, parse_when

LATER_HINT = (
    "tomorrow 9:00, mon 8am, +2h, in 30 min, 2026-12-24 18:00; Enter sends then, Esc cancels"
)


class SendLaterPrompt(ModalScreen[int | None]):
    """One line for the time; dismissed with it (Unix seconds), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="send_later_cancel"),
    ]

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="save"):
            yield Static(Content("Send later, at"), id="save-title")
            yield Input(id="save-input", select_on_focus=False)
            yield Static(Content(LATER_HINT), id="save-hint")
            yield Static("", id="save-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _read(self, text: str) -> int | None:
        """The time as words on the line below, or why it is not one."""
        now = self.clock()
        line = self.query_one("#save-error", Static)
        hint = self.query_one("#save-hint", Static)
        try:
            moment = parse_when(text, now)
        except WhenError as error:
            line.update(Content(sanitize_line(str(error)) if text.strip() else ""))
            hint.update(Content(LATER_HINT))
            return None
        line.update("")
        hint.update(Content(f"Sends {describe(moment, now)}: Enter to confirm"))
        return int(moment.timestamp())

    def on_input_changed(self, event: Input.Changed) -> None:
        """Say the time back as it is typed."""
        event.stop()
        self._read(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A time: send then; anything else stays, with the reason."""
        event.stop()
        moment = self._read(event.value)
        if moment is not None:
            self.dismiss(moment)

    def action_cancel(self) -> None:
        """Not scheduled: back to the message."""
        self.dismiss(None)
