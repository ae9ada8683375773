"""The outbox: messages waiting to go (delayed, scheduled, failed) with when each goes; Enter
takes the chosen one back into the compose screen to edit, reschedule (Ctrl+l) or send."""

from __future__ import annotations

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
from tuimail.mail.when import describe
from tuimail.sync.interface import WaitingMessage


def waiting_prompt(message: WaitingMessage, now: datetime) -> Content:
    """One line: when it goes (or why it failed), to whom, subject, account."""
    if message.status == "failed":
        when = ("failed", "$text-error")
    elif message.due > now.timestamp():
        when = (describe(datetime.fromtimestamp(message.due, UTC), now), "$text-warning")
    else:
        when = ("due now", "$text-muted")
    to = ", ".join(message.to) or "(no recipients)"
    return Content.assemble(
        (f"{when[0]:>26}  ", when[1]),
        sanitize_line(f"{to}: {message.subject or '(no subject)'}"),
        (f"  {sanitize_line(message.account)}", "$text-muted"),
    )


class OutboxPicker(ModalScreen[WaitingMessage | None]):
    """The outbox list; dismissed with the message to take back, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", id="outbox_cancel"),
    ]

    def __init__(self, waiting: list[WaitingMessage]) -> None:
        super().__init__()
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        now = datetime.now(UTC)
        with Vertical(id="picker", classes="-wide"):
            yield Static(Content("Outbox: Enter takes one back to edit"), id="picker-title")
            yield OptionList(
                *[Option(waiting_prompt(w, now), id=str(n)) for n, w in enumerate(self.waiting)],
                id="picker-list",
            )

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.focus()
        listing.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Picked."""
        event.stop()
        self.dismiss(self.waiting[int(event.option.id)] if event.option.id is not None else None)

    def action_cancel(self) -> None:
        """Nothing picked."""
        self.dismiss(None)
