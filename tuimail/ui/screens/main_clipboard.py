"""The main screen's copy keys: ``y`` the message text, ``Y`` the sender's address.

A mixin of ``MainScreen``. Copies go through ``App.copy_to_clipboard``, an OSC 52 sequence to
the terminal, so they land in the clipboard of the machine the user sits at, SSH or not (if the
terminal allows OSC 52).
"""

from __future__ import annotations

import asyncio

from textual.screen import Screen

from tuimail.mail.render import render_message
from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.interface import MailService
from tuimail.ui.jobs import ReportsFailures


def plain_text(raw: bytes) -> str:
    """The message's body as the view shows it (sanitised), then its numbered links."""
    rendered = render_message(raw)
    text = rendered.body.rstrip("\n") + "\n"
    if rendered.links:  # an HTML body's [n] marks; a text body has its URLs in the text
        listed = "".join(f"[{n}] {link}\n" for n, link in enumerate(rendered.links, 1))
        text += "\nLinks\n" + listed
    return text


class ClipboardActions(ReportsFailures, Screen[None]):
    """Copy the text or the sender of the message meant (the open one, or under the cursor)."""

    service: MailService

    def _targets(self) -> tuple[int, ...]:
        raise NotImplementedError  # MainScreen knows which message is meant

    def action_copy_text(self) -> None:
        """Copy the message's text to the clipboard."""
        ids = self._targets()
        if ids:
            self.run_worker(
                self._copy_text(ids[0]),
                group="clipboard",
                exclusive=True,
                description="copying the message text",
                exit_on_error=False,
            )

    async def _copy_text(self, message_id: int) -> None:
        raw = await self.service.open_message(message_id)
        text = await asyncio.to_thread(plain_text, raw)
        self.app.copy_to_clipboard(text)
        lines = text.count("\n")
        self.notify(f"Copied the message text ({lines} line{'s' if lines != 1 else ''})", timeout=3)

    def action_copy_sender(self) -> None:
        """Copy the sender's address to the clipboard."""
        ids = self._targets()
        if ids:
            self.run_worker(
                self._copy_sender(ids[0]),
                group="clipboard",
                exclusive=True,
                description="copying the sender",
                exit_on_error=False,
            )

    async def _copy_sender(self, message_id: int) -> None:
        rows = await self.service.rows([message_id])
        if not rows or not rows[0].from_email:
            self.notify("This message has no sender address.", timeout=3)
            return
        address = sanitize_line(rows[0].from_email)
        self.app.copy_to_clipboard(address)
        self.notify(f"Copied {address}", markup=False, timeout=3)
