"""``?``: the keys that apply where you are, from the one table in ``ui/keys.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tuimail.ui import keys
from tuimail.ui.widgets.index_line import fit

KEYS_WIDTH = 14


def help_content(scopes: Sequence[keys.Scope], overrides: Mapping[str, str]) -> Content:
    """The help text: one block per scope, each line keys, what they do and the binding id."""
    parts: list[str | tuple[str, str]] = []
    current: keys.Scope | None = None
    for scope, entry, shown in keys.help_rows(scopes, overrides):
        if scope != current:
            title = ("\n" if current else "") + f"{keys.SCOPE_TITLES[scope]}\n"
            parts.append((title, "bold underline"))
            current = scope
        note = "" if entry.ready else " (not available yet)"
        parts.append((fit(shown, KEYS_WIDTH) + " ", "bold $text-accent"))
        parts.append(entry.description + note)
        parts.append((f"  {entry.id}\n", "$text-muted"))
    parts.append(
        (
            "\nAll inboxes, All unread and All flagged, at the top of the folder list, gather "
            "the mail of every account; every key works there on the message's own account.\n"
            '\nRemap any key in config.toml: [ui.keys] then  id = "key".  '
            "Ctrl+P opens the command palette (themes too).",
            "$text-muted",
        )
    )
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    """The keys for the pane you came from."""

    KEY_SCOPE: ClassVar[keys.Scope] = "help"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("help"))

    def __init__(self, scopes: Sequence[keys.Scope], overrides: Mapping[str, str]) -> None:
        super().__init__()
        self._scopes = scopes
        self._overrides = overrides

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(Content("Keys"), id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_content(self._scopes, self._overrides), id="help-text")

    @property
    def _body(self) -> VerticalScroll:
        return self.query_one("#help-body", VerticalScroll)

    def action_cursor_down(self) -> None:
        """One line further."""
        self._body.scroll_down(animate=False)

    def action_cursor_up(self) -> None:
        """One line back."""
        self._body.scroll_up(animate=False)

    def action_page_down(self) -> None:
        """One screen further."""
        self._body.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        """One screen back."""
        self._body.scroll_page_up(animate=False)

    def action_first(self) -> None:
        """The top."""
        self._body.scroll_home(animate=False)

    def action_last(self) -> None:
        """The end."""
        self._body.scroll_end(animate=False)

    def action_close(self) -> None:
        """Back to where you were."""
        self.dismiss(None)
