"""What a mailcap ``copiousoutput`` viewer printed, in a pager inside the app."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


class MailcapOutput(ModalScreen[None]):
    """A scrollable, read-only view of a viewer's (sanitised) output and its exit status."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "close", "Close", id="mailcap_output_close"),
    ]

    def __init__(self, title: str, text: str, status: int) -> None:
        super().__init__()
        self.title_line = title
        self.text = text
        self.status = status

    def compose(self) -> ComposeResult:
        with Vertical(id="mailcap-output"):
            yield Static(Content(self.title_line), id="mailcap-command")
            yield TextArea(self.text, read_only=True, soft_wrap=False, id="mailcap-text")
            ending = Static(Content(f"exit status {self.status}"), id="mailcap-status")
            ending.set_class(self.status != 0, "-failed")
            yield ending

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        """Back to the message."""
        self.dismiss(None)
