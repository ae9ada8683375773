"""Ask which file to save messages to (an mbox, or an .eml file), completed from the filesystem.

The attachment's save prompt with a file instead of a directory: same line, same completion.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.content import Content
from textual.widgets import Input, Static

from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.save_messages import save_format
from tuimail.ui.screens.save_prompt import SavePrompt

SAVE_FILE_HINT = "name.eml: one message file; any other name: an mbox, appended to; → completes"


class SaveMessagesPrompt(SavePrompt):
    """One line for the file; Enter saves there, Escape cancels."""

    def __init__(self, what: str, count: int, start: str) -> None:
        super().__init__(what, Path(start))  # then the words and the line for a file
        self.title_text = f"Save {what} to the file"  # what: "1 message", "3 messages"
        self.start = start
        self.hint = SAVE_FILE_HINT
        self._count = count

    def show_error(self, text: str) -> None:
        """Say why the file cannot be written; the prompt stays for another name."""
        self.query_one("#save-error", Static).update(Content(sanitize_line(text)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A file name; a directory, or an .eml file that cannot take these messages, says so
        and stays."""
        event.stop()
        event.prevent_default()  # SavePrompt's handler wants a directory
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
