"""Saved drafts, most recently edited first, then the other messages of the Drafts folders:
Enter reopens one in the compose screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.interface import DraftSummary
from tuimail.ui.widgets.index_line import date_text


def draft_prompt(draft: DraftSummary, now: datetime) -> Content:
    """One line: when, to whom, subject, account."""
    to = ", ".join(draft.to) or "(no recipients)"
    subject = draft.subject or "(no subject)"
    where = " (Drafts folder)" if draft.message_pk is not None else ""
    return Content.assemble(
        (f"{date_text(datetime.fromtimestamp(draft.updated_at, UTC), now):>10}  ", "$text-muted"),
        sanitize_line(f"{to}: {subject}"),
        (f"  {sanitize_line(draft.account)}{where}", "$text-muted"),
    )


class DraftPicker(ModalScreen[DraftSummary | None]):
    """The drafts list; dismissed with the chosen draft, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", id="drafts_cancel"),
    ]

    def __init__(self, drafts: list[DraftSummary], clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.drafts = drafts
        self.clock = clock

    def compose(self) -> ComposeResult:
        now = self.clock()
        with Vertical(id="picker", classes="-wide"):
            yield Static(Content("Reopen a draft"), id="picker-title")
            yield OptionList(
                *[Option(draft_prompt(d, now), id=str(n)) for n, d in enumerate(self.drafts)],
                id="picker-list",
            )

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.focus()
        listing.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Picked."""
        event.stop()
        self.dismiss(self.drafts[int(event.option.id)] if event.option.id is not None else None)

    def action_cancel(self) -> None:
        """Nothing picked."""
        self.dismiss(None)
