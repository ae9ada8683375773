"""The interface's side of mailcap: choose the viewer in a thread, then show its output in a
pager, give it the terminal, or start it detached; the desktop's opener when no entry fits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import SuspendNotSupported
from textual.widget import Widget

from tuimail.mail.render import attachment_bytes
from tuimail.mail.sanitize import sanitize_line
from tuimail.ui import attachments, mailcap_open
from tuimail.ui.mailcap_open import Part


async def open_attachment(
    widget: Widget, raw: bytes, index: int, content_type: str, scratch: Path
) -> bool:
    """Open attachment ``index`` through the mailcap; False when no entry takes its type."""
    name, data = await asyncio.to_thread(attachment_bytes, raw, index)
    return await view(widget, Part(data, content_type, name), scratch)


async def open_html(widget: Widget, raw: bytes, scratch: Path, opener: tuple[str, ...]) -> None:
    """Open a message's HTML part through the mailcap, else with the desktop's opener."""
    part = await asyncio.to_thread(mailcap_open.html_part, raw)
    if part is None:
        widget.notify("This message has no HTML part.", timeout=3)
        return
    if await view(widget, part, scratch):
        return
    path = await asyncio.to_thread(attachments.write_inside, scratch, part.filename, part.data)
    attachments.launch(opener, str(path), "add a text/html entry to ~/.mailcap")
    widget.notify("Opened the HTML part", markup=False)


async def view(widget: Widget, part: Part, scratch: Path) -> bool:
    """Run the first fitting mailcap entry on ``part``; False when there is none."""
    viewer = await asyncio.to_thread(mailcap_open.find_viewer, part, scratch)
    if viewer is None:
        return False
    program = sanitize_line(Path(viewer.argv[0]).name)
    if viewer.entry.copiousoutput:
        text, status = await asyncio.to_thread(mailcap_open.run_copious, viewer)
        from tuimail.ui.screens.mailcap_output import MailcapOutput

        title = f"{sanitize_line(viewer.entry.command)}  ({mailcap_open.safe_type(part)})"
        await widget.app.push_screen(MailcapOutput(title, text, status))
    elif viewer.entry.needsterminal:
        try:
            with widget.app.suspend():
                status = mailcap_open.run_in_terminal(viewer)
        except SuspendNotSupported:  # headless (tests): no terminal to hand over
            status = await asyncio.to_thread(mailcap_open.run_in_terminal, viewer)
        if status != 0:
            widget.notify(f"{program} exited with status {status}", severity="warning")
    else:
        await asyncio.to_thread(mailcap_open.start_detached, viewer)
        widget.notify(f"Opened with {program}", markup=False)
    return True
