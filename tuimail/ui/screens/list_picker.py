"""A modal list to pick one item from (the drafts, the outbox): Enter picks, Esc or q cancels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

Item = TypeVar("Item")


class ListPicker(ModalScreen[Item | None], Generic[Item]):
    """One line per item under a title; dismissed with the item picked, or None. Each list
    binds its own ``escape,q`` to ``cancel``, with a binding id of its own."""

    TITLE_TEXT: ClassVar[str] = ""

    def __init__(self, items: Sequence[Item]) -> None:
        super().__init__()
        self.items = list(items)

    def now(self) -> datetime:
        """The time the lines are written against."""
        return datetime.now(UTC)

    def line(self, item: Item, now: datetime) -> Content:
        """How ``item`` shows in the list."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        now = self.now()
        with Vertical(id="picker", classes="-wide"):
            yield Static(Content(self.TITLE_TEXT), id="picker-title")
            yield OptionList(
                *[Option(self.line(item, now), id=str(n)) for n, item in enumerate(self.items)],
                id="picker-list",
            )

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.focus()
        listing.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Picked."""
        event.stop()
        self.dismiss(self.items[int(event.option.id)] if event.option.id is not None else None)

    def action_cancel(self) -> None:
        """Nothing picked."""
        self.dismiss(None)
