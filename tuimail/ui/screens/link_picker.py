"""The links of the open message, numbered as the view shows them: open one or copy it.

Enter or ``o`` opens the link with the desktop's handler when the desktop is this machine; over
SSH it is copied instead (OSC 52 reaches the terminal on the user's side). ``y`` copies. A digit
moves to that link.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tuimail.errors import TuimailError
from tuimail.mail.sanitize import sanitize_line
from tuimail.ui import keys
from tuimail.ui.links import open_link, remote_session


class LinkPicker(ModalScreen[None]):
    """A numbered list of links."""

    KEY_SCOPE: ClassVar[keys.Scope] = "links"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("links"))

    def __init__(self, links: Sequence[str], opener: Sequence[str]) -> None:
        super().__init__()
        self.links = tuple(links)
        self.opener = tuple(opener)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker", classes="-wide"):
            yield Static(Content("Links: Enter opens, y copies, a digit jumps"), id="picker-title")
            yield OptionList(
                *[
                    Option(Content(f"[{number}] {sanitize_line(link)}"))
                    for number, link in enumerate(self.links, 1)
                ],
                id="picker-list",
            )

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.focus()
        listing.highlighted = 0

    @property
    def chosen(self) -> tuple[int, str] | None:
        """(number, link) under the cursor."""
        position = self.query_one(OptionList).highlighted
        if position is None:
            return None
        return position + 1, self.links[position]

    def on_key(self, event: events.Key) -> None:
        """A digit moves to that link (1-9)."""
        if event.character is not None and event.character in "123456789":
            number = int(event.character)
            if number <= len(self.links):
                event.stop()
                self.query_one(OptionList).highlighted = number - 1

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a link opens it."""
        event.stop()
        self.action_open_link()

    def action_open_link(self) -> None:
        """Open the link here, or copy it when the desktop is on the other end of SSH."""
        chosen = self.chosen
        if chosen is None:
            return
        number, link = chosen
        if remote_session():
            self.app.copy_to_clipboard(link)
            self.app.notify(f"Over SSH: link {number} copied instead of opened", timeout=3)
        else:
            try:
                open_link(link, self.opener)
            except TuimailError as exc:
                self.app.notify(sanitize_line(str(exc)), severity="error", markup=False)
                return
            self.app.notify(f"Opened link {number}", timeout=3)
        self.dismiss(None)

    def action_copy_link(self) -> None:
        """Copy the link to the clipboard of the user's terminal (OSC 52)."""
        chosen = self.chosen
        if chosen is not None:
            self.app.copy_to_clipboard(chosen[1])
            self.app.notify(f"Copied link {chosen[0]}", timeout=3)
            self.dismiss(None)

    def action_close(self) -> None:
        """Back to the message."""
        self.dismiss(None)
