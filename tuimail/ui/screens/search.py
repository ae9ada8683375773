"""Ask for a search query; a query that does not parse says why and stays open for a fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuimail.mail.query import Query, QueryError, parse_query
from tuimail.mail.sanitize import sanitize_line

QUERY_HINT = (
    'from: to: subject: body: "a phrase"  has:attachment is:unread is:flagged  '
    "before:/after:YYYY-MM-DD  OR  -not  (groups)"
)


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What the user asked for: the text as typed and its query tree."""

    text: str
    query: Query


class QueryPrompt(ModalScreen[SearchRequest | None]):
    """One line for a query; Enter searches, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="query_cancel"),
    ]

    def __init__(self, title: str, text: str = "") -> None:
        super().__init__()
        self._heading = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="query"):
            yield Static(Content(self._heading), id="query-title")
            yield Input(self._text, placeholder="from:ann is:unread", id="query-input")
            yield Static(Content(QUERY_HINT), id="query-hint")
            yield Static("", id="query-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Parse; a bad query shows its one-line reason and the prompt stays."""
        event.stop()
        try:
            query = parse_query(event.value)
        except QueryError as exc:
            self.query_one("#query-error", Static).update(Content(sanitize_line(str(exc))))
            return
        self.dismiss(SearchRequest(event.value.strip(), query))

    def action_cancel(self) -> None:
        """No search."""
        self.dismiss(None)
