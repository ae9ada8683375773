"""Saved drafts, most recently edited first, then the other messages of the Drafts folders:
Enter reopens one in the compose screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.interface import DraftSummary
from tuimail.ui.screens.list_picker import ListPicker
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


class DraftPicker(ListPicker[DraftSummary]):
    """The drafts list; dismissed with the chosen draft, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", id="drafts_cancel"),
    ]
    TITLE_TEXT = "Reopen a draft"

    def __init__(self, drafts: list[DraftSummary], clock: Callable[[], datetime]) -> None:
        super().__init__(drafts)
        self.clock = clock

    def now(self) -> datetime:
        """The app's clock (fixed in tests)."""
        return self.clock()

    def line(self, item: DraftSummary, now: datetime) -> Content:
        """When, to whom, subject, account."""
        return draft_prompt(item, now)
