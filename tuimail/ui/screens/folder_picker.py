"""Choose a folder to move or copy messages into: type to filter, like mutt's ``=Arc`` + Tab.

Keys: typing filters the list (fuzzy: the letters in order, anywhere in the folder's full name,
case-insensitive; the best match first and highlighted). Up/Down and Ctrl+p/Ctrl+n always move
in the list; ``j``/``k`` move too while the filter is empty (once something is typed they are
letters: type ``J`` or ``K`` to filter by them first). Tab completes the filter to the
highlighted name, Enter takes the highlighted folder (nothing happens while none is), Esc
cancels. Nothing is highlighted at first, unless the last folder used is in the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tuimail.mail.sanitize import sanitize_line
from tuimail.store.records import FolderState

HINT = "Type to filter, ↑ ↓ choose, Tab completes.\nEnter takes the folder, Esc cancels."
_STEP_KEYS = ("j", "k")


def fuzzy_rank(query: str, names: Sequence[str]) -> list[int]:
    """Positions of the names holding ``query``'s letters in order, best match first.

    Best: the query starts the name or one of its parts ("arc" in "Lists/arch-dev"), then it
    appears whole, then its letters spread over the shortest stretch; ties go to the shorter
    name. An empty query keeps every name in its order.
    """
    needle = query.casefold()
    if not needle:
        return list(range(len(names)))
    scored: list[tuple[tuple[int, int, int, str], int]] = []
    for position, name in enumerate(names):
        score = _match(needle, name.casefold())
        if score is not None:
            scored.append(((*score, len(name), name), position))
    return [position for _score, position in sorted(scored)]


def _match(needle: str, hay: str) -> tuple[int, int] | None:
    """(kind, spread) of the best match of ``needle`` in ``hay``, or None if it is not there."""
    starts = [0] + [i + 1 for i, char in enumerate(hay) if not char.isalnum()]
    if any(hay.startswith(needle, start) for start in starts):
        return 0, len(needle)
    if needle in hay:
        return 1, len(needle)
    best: int | None = None
    for first in (i for i, char in enumerate(hay) if char == needle[0]):
        at = first
        for char in needle[1:]:
            at = hay.find(char, at + 1)
            if at < 0:
                break
        else:
            spread = at - first + 1
            best = spread if best is None else min(best, spread)
    return None if best is None else (2, best)


class FolderFilter(Input):
    """The filter line; while it is empty, ``j``/``k`` go to the list instead of the text."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if not self.value and key in _STEP_KEYS:
            return False  # the picker's j/k bindings run
        return super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if not self.value and event.key in _STEP_KEYS:
            event.prevent_default()  # not typed: the key goes on to the picker's bindings


class FolderPicker(ModalScreen[int | None]):
    """Folders of the account, filtered as you type; Enter takes the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker_cancel"),
        Binding("down,ctrl+n,j", "step(1)", "Next", id="picker_next"),
        Binding("up,ctrl+p,k", "step(-1)", "Previous", id="picker_previous"),
        Binding("tab", "complete", "Complete", id="picker_complete"),
    ]

    def __init__(self, title: str, folders: Sequence[FolderState], last: int | None = None) -> None:
        """``last``: the folder used last time, highlighted at first if it is listed."""
        super().__init__()
        self._heading = title
        self._folders = list(folders)
        self._names = [sanitize_line(folder.name) for folder in self._folders]
        self._last = last
        self._shown: list[int] = []  # positions in ``_folders`` of the options listed

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Content(self._heading), id="picker-title")
            yield FolderFilter(placeholder="folder", id="picker-filter")
            yield OptionList(id="picker-list")
            yield Static(Content(HINT), id="picker-hint")

    def on_mount(self) -> None:
        self._show("")
        self.query_one(FolderFilter).focus()

    @property
    def chosen(self) -> FolderState | None:
        """The highlighted folder, if one is."""
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is None or highlighted >= len(self._shown):
            return None
        return self._folders[self._shown[highlighted]]

    def _show(self, query: str) -> None:
        """List the folders matching ``query``: the best highlighted, or the last used."""
        self._shown = fuzzy_rank(query, self._names)
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options(
            [Option(Content(self._names[i]), id=str(self._folders[i].id)) for i in self._shown]
        )
        if query and self._shown:
            listing.highlighted = 0
        elif not query and self._last is not None:
            ids = [self._folders[i].id for i in self._shown]
            listing.highlighted = ids.index(self._last) if self._last in ids else None
        else:
            listing.highlighted = None

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        event.stop()
        self._show(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: take the highlighted folder, if there is one."""
        event.stop()
        self._take()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or Enter on the list) takes that folder."""
        event.stop()
        self._take()

    def _take(self) -> None:
        chosen = self.chosen
        if chosen is not None:
            self.dismiss(chosen.id)

    def action_step(self, delta: int) -> None:
        """Move the highlight; from nothing, down starts at the top and up at the bottom."""
        listing = self.query_one(OptionList)
        if listing.highlighted is None and delta < 0:
            listing.action_last()
        elif delta > 0:
            listing.action_cursor_down()
        else:
            listing.action_cursor_up()

    def action_complete(self) -> None:
        """Tab: the filter becomes the highlighted folder's name."""
        chosen = self.chosen
        if chosen is None:
            return
        line = self.query_one(FolderFilter)
        line.value = sanitize_line(chosen.name)
        line.cursor_position = len(line.value)

    def action_cancel(self) -> None:
        """Nothing picked."""
        self.dismiss(None)
