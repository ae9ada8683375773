"""Ask for the shell command ``|`` pipes messages to: one line, with the history of earlier ones
(↑ and ↓) and Tab to switch between the raw message and its decoded text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

PIPE_HINT = "Enter runs it; ↑ ↓ earlier commands; Tab raw message / decoded text; Esc cancels"


@dataclass(frozen=True, slots=True)
class PipeRequest:
    """The command to run and whether it gets the decoded text instead of the raw message."""

    command: str
    decode: bool


class PipePrompt(ModalScreen[PipeRequest | None]):
    """One line for the command; Enter runs it, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pipe_cancel"),
        Binding("up", "recall(-1)", "Earlier command", id="pipe_earlier"),
        Binding("down", "recall(1)", "Later command", id="pipe_later"),
        Binding("tab", "toggle_decode", "Raw / decoded", id="pipe_decode"),
    ]

    def __init__(self, what: str, history: list[str], *, decode: bool) -> None:
        super().__init__()
        self._what = what  # "1 message", "3 tagged messages"
        self._history = history
        self._position = len(history)  # len(history): the line being typed, not a recalled one
        self._typed = ""
        self.decode = decode

    def compose(self) -> ComposeResult:
        with Vertical(id="pipe"):
            yield Static(self._title(), id="pipe-title")
            yield Input(id="pipe-input", placeholder="shell command, e.g. git am -3")
            yield Static(Content(PIPE_HINT), id="pipe-hint")

    def _title(self) -> Content:
        given = "its decoded text" if self.decode else "the raw message"
        return Content(f"Pipe {self._what} ({given}) to")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_toggle_decode(self) -> None:
        """The raw message or the text the view shows, for this command."""
        self.decode = not self.decode
        self.query_one("#pipe-title", Static).update(self._title())

    def action_recall(self, step: int) -> None:
        """Put an earlier (or later) command from the history into the line."""
        field = self.query_one(Input)
        if self._position == len(self._history):
            self._typed = field.value
        self._position = min(max(self._position + step, 0), len(self._history))
        recalled = self._history[self._position : self._position + 1]
        field.value = recalled[0] if recalled else self._typed
        field.cursor_position = len(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Run the command typed; an empty line does nothing."""
        event.stop()
        if event.value.strip():
            self.dismiss(PipeRequest(event.value.strip(), self.decode))

    def action_cancel(self) -> None:
        """Nothing piped."""
        self.dismiss(None)
