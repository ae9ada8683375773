"""The outbox: messages waiting to go (delayed, scheduled, failed) with when each goes; Enter
takes the chosen one back into the compose screen to edit, reschedule (Ctrl+l) or send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from tuimail.mail.sanitize import sanitize_line
from tuimail.mail.when import describe
from tuimail.sync.interface import WaitingMessage
from tuimail.ui.screens.list_picker import ListPicker


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


class OutboxPicker(ListPicker[WaitingMessage]):
    """The outbox list; dismissed with the message to take back, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", id="outbox_cancel"),
    ]
    TITLE_TEXT = "Outbox: Enter takes one back to edit"

    def line(self, item: WaitingMessage, now: datetime) -> Content:
        """When it goes, to whom, subject, account."""
        return waiting_prompt(item, now)
