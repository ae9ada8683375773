"""Choose a folder to move or copy messages into."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tuimail.mail.sanitize import sanitize_line
from tuimail.store.records import FolderState


class FolderPicker(ModalScreen[int | None]):
    """A list of folders; Enter picks one, Escape or q cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", id="picker_cancel"),
    ]

    def __init__(self, title: str, folders: list[FolderState]) -> None:
        super().__init__()
        self._heading = title
        self._folders = folders

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Content(self._heading), id="picker-title")
            yield OptionList(
                *[
                    Option(Content(sanitize_line(folder.name)), id=str(folder.id))
                    for folder in self._folders
                ],
                id="picker-list",
            )

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.focus()
        if self._folders:
            listing.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Picked."""
        event.stop()
        self.dismiss(int(event.option.id) if event.option.id is not None else None)

    def action_cancel(self) -> None:
        """Nothing picked."""
        self.dismiss(None)
