"""Ask which file to save messages to (an mbox, or an .eml file), completed from the filesystem."""

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
from tuimail.sync.save_messages import save_format
from tuimail.ui.widgets.path_suggester import PathSuggester

SAVE_FILE_HINT = "name.eml: one message file; any other name: an mbox, appended to; → completes"


class SaveMessagesPrompt(ModalScreen[Path | None]):
    """One line for the file; Enter saves there, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="save_file_cancel"),
    ]

    def __init__(self, what: str, count: int, start: str) -> None:
        super().__init__()
        self._what = what  # "1 message", "3 tagged messages"
        self._count = count
        self._start = start

    def compose(self) -> ComposeResult:
        with Vertical(id="save"):
            yield Static(Content(f"Save {self._what} to the file"), id="save-title")
            yield Input(
                self._start,
                id="save-input",
                suggester=PathSuggester(),
                select_on_focus=False,
            )
            yield Static(Content(SAVE_FILE_HINT), id="save-hint")
            yield Static("", id="save-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def show_error(self, text: str) -> None:
        """Say why the file cannot be written; the prompt stays for another name."""
        self.query_one("#save-error", Static).update(Content(sanitize_line(text)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A file name; a directory says so and stays."""
        event.stop()
        typed = event.value.strip()
        path = Path(os.path.expanduser(typed)) if typed else None
        if path is None or typed.endswith("/") or path.is_dir():
            self.show_error(f"{typed or 'nothing'}: give a file name, not a directory")
        elif save_format(path) == "eml" and self._count > 1:
            self.show_error("an .eml file holds one message: give an mbox file for several")
        elif save_format(path) == "eml" and path.exists():
            self.show_error(f"{typed} exists: give another name (an .eml file is not appended to)")
        else:
            self.dismiss(path)

    def action_cancel(self) -> None:
        """Not saved."""
        self.dismiss(None)
