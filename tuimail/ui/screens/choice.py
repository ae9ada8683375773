"""Ask one question with a few one-key answers ("Discard this message?  y yes  n no")."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ChoiceScreen(ModalScreen[str | None]):
    """A question; each answer is one key. Escape answers ``None`` (nothing chosen)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="choice_cancel"),
    ]

    def __init__(self, question: str, answers: dict[str, str]) -> None:
        """``answers`` maps a key (one character) to its label; the key is the result."""
        super().__init__()
        self.question = question
        self.answers = answers

    def compose(self) -> ComposeResult:
        listed = "   ".join(f"{key} {label}" for key, label in self.answers.items())
        with Vertical(id="choice"):
            yield Static(Content(self.question), id="choice-question")
            yield Static(Content(f"{listed}   Esc cancel"), id="choice-answers")

    def on_key(self, event: events.Key) -> None:
        """An answer key dismisses with that answer."""
        if event.character is not None and event.character in self.answers:
            event.stop()
            self.dismiss(event.character)

    def action_cancel(self) -> None:
        """No answer."""
        self.dismiss(None)
