"""Ask where to save an attachment: a directory, prefilled, completed from the filesystem."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuimail.mail.sanitize import sanitize_line
from tuimail.ui.widgets.path_suggester import PathSuggester

SAVE_HINT = "Enter saves here (under the attachment's own safe name); → completes; Esc cancels"


class SavePrompt(ModalScreen[Path | None]):
    """One line for the directory; Enter saves there, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="save_cancel"),
    ]

    def __init__(self, filename: str, directory: Path) -> None:
        super().__init__()
        self.title_text = f"Save {sanitize_line(filename)} in"
        self.start = str(directory).rstrip("/") + "/"
        self.hint = SAVE_HINT

    def compose(self) -> ComposeResult:
        with Vertical(id="save"):
            yield Static(Content(self.title_text), id="save-title")
            yield Input(
                self.start, id="save-input", suggester=PathSuggester(), select_on_focus=False
            )
            yield Static(Content(self.hint), id="save-hint")
            yield Static("", id="save-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A directory (made if missing); a path that is a file says so and stays."""
        event.stop()
        path = Path(os.path.expanduser(event.value.strip() or "."))
        if path.exists() and not path.is_dir():
            error = f"{sanitize_line(str(path))} is a file: give a directory"
            self.query_one("#save-error", Static).update(Content(error))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        """Not saved."""
        self.dismiss(None)
