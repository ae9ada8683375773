"""The message view: headers, body text with dimmed, foldable quotes, links, attachments.

Everything shown comes from ``mail.render`` (already sanitised) and is put on screen as
``Content`` built from plain strings, so nothing in a message is ever read as markup. Links
become terminal hyperlinks only when they are plain http, https or mailto URLs.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.style import Style
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tuimail.mail.attachment_risk import code_risk
from tuimail.mail.links import message_links
from tuimail.mail.render import BodyLine, RenderedMessage, render_message
from tuimail.mail.sanitize import sanitize_line
from tuimail.ui import attachments, keys, mailcap_view
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.links import safe_link
from tuimail.ui.messages import MessageRendered
from tuimail.ui.widgets.index_line import size_text

EMPTY_TEXT = "No message open. Choose one in the index and press Enter."


def header_content(headers: tuple[tuple[str, str], ...]) -> Content:
    """``Name: value`` lines, names in bold."""
    parts: list[str | tuple[str, str | Style]] = []
    for number, (name, value) in enumerate(headers):
        if number:
            parts.append("\n")
        parts.append((f"{sanitize_line(name)}: ", "bold"))
        parts.append(sanitize_line(value))
    return Content.assemble(*parts)


def body_content(rendered: RenderedMessage, fold_quotes: bool) -> Content:
    """The body with quoted lines dimmed (or folded to one line), then the numbered links."""
    parts: list[str | tuple[str, str | Style]] = []
    quoted: list[BodyLine] = []

    def flush() -> None:
        if not quoted:
            return
        if fold_quotes:
            many = "line" if len(quoted) == 1 else "lines"
            parts.append((f"[… {len(quoted)} quoted {many}; z shows them]\n", "$text-muted italic"))
        else:
            parts.extend((line.text + "\n", "$text-muted") for line in quoted)
        quoted.clear()

    lines = rendered.body_lines or (BodyLine(rendered.body, 0),)
    for line in lines:
        if line.quote_depth > 0:
            quoted.append(line)
            continue
        flush()
        parts.append(line.text + "\n")
    flush()
    if rendered.links:
        parts.append(("\nLinks\n", "bold"))
        for number, url in enumerate(rendered.links, 1):
            shown = sanitize_line(url)
            link = safe_link(url)
            parts.append(f"[{number}] ")
            parts.append((shown, Style(link=link, underline=True)) if link else shown)
            parts.append("\n")
    return Content.assemble(*parts)


def attachment_prompt(number: int, filename: str, content_type: str, size: int) -> Content:
    """One line of the attachment list."""
    return Content.assemble(
        (f"{number:>2} ", "$text-muted"),
        sanitize_line(filename),
        (f"  {sanitize_line(content_type)}  {size_text(size)}", "$text-muted"),
    )


class AttachmentList(OptionList):
    """The attachments under a message: s saves, o or Enter opens."""

    KEY_SCOPE: ClassVar[keys.Scope] = "attachments"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("attachments"))

    def action_save_attachment(self) -> None:
        """Save the highlighted attachment."""
        if self.highlighted is not None:
            self.query_ancestor(MessageView).save_attachment(self.highlighted)

    def action_open_attachment(self) -> None:
        """Open the highlighted attachment."""
        if self.highlighted is not None:
            self.query_ancestor(MessageView).open_attachment(self.highlighted)

    def action_back_to_text(self) -> None:
        """Back to the message text (the view's ``q`` then goes on to the index)."""
        self.query_ancestor(MessageView).body.focus()


class MessageView(ReportsFailures, Vertical):
    """One message, as text."""

    KEY_SCOPE: ClassVar[keys.Scope] = "view"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("view"))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.message_id: int | None = None
        self.rendered: RenderedMessage | None = None
        self._rendered_id: int | None = None
        self._raw = b""
        self._all_headers = False
        self._fold_quotes = False
        self._prefer_html = False  # H: the HTML alternative instead of the plain one
        self.downloads = attachments.downloads_dir()
        self.scratch: Path | None = None
        self.opener: tuple[str, ...] = attachments.OPENER

    def compose(self) -> ComposeResult:
        yield Static(id="view-headers")
        with VerticalScroll(id="view-body"):
            yield Static(Content(EMPTY_TEXT), id="view-text")
        yield AttachmentList(id="view-attachments")

    def on_mount(self) -> None:
        self.add_class("-empty")  # the index takes the width until a message opens
        self.query_one("#view-headers").display = False
        self.query_one(AttachmentList).display = False

    def on_unmount(self) -> None:
        # Opened attachments live only as long as the app: mail is private.
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    @property
    def body(self) -> VerticalScroll:
        """The scrolling body, the part that takes focus."""
        return self.query_one("#view-body", VerticalScroll)

    def show(self, message_id: int, raw: bytes) -> None:
        """Lay out a message (in a worker thread: a large HTML mail takes a moment)."""
        if message_id != self.message_id:
            self._prefer_html = False  # each message opens on its plain text
        self.message_id, self._raw = message_id, raw
        self.remove_class("-empty")
        self._start_render()

    def clear(self) -> None:
        """Show nothing (the message went away)."""
        self.message_id, self.rendered, self._raw = None, None, b""
        self._rendered_id = None
        self.add_class("-empty")
        self.query_one("#view-headers").display = False
        self.query_one("#view-text", Static).update(Content(EMPTY_TEXT))
        self.query_one(AttachmentList).display = False

    def _start_render(self) -> None:
        if self.message_id is None:
            return
        self.run_worker(
            self._render_message(self.message_id, self._raw, self._all_headers, self._prefer_html),
            group="view-render",
            exclusive=True,
            description="laying out the message",
            exit_on_error=False,
        )

    async def _render_message(
        self, message_id: int, raw: bytes, all_headers: bool, prefer_html: bool
    ) -> None:
        rendered = await asyncio.to_thread(
            render_message, raw, all_headers=all_headers, prefer_html=prefer_html
        )
        self.post_message(MessageRendered(message_id, rendered))

    def on_message_rendered(self, message: MessageRendered) -> None:
        """Put the laid-out message on screen."""
        if message.message_id != self.message_id:
            return
        keep_scroll = self._rendered_id == message.message_id
        self.rendered, self._rendered_id = message.rendered, message.message_id
        headers = self.query_one("#view-headers", Static)
        headers.update(header_content(message.rendered.headers))
        headers.display = True
        self._show_body()
        listing = self.query_one(AttachmentList)
        listing.clear_options()
        listing.add_options(
            [
                Option(attachment_prompt(a.index + 1, a.filename, a.content_type, a.size))
                for a in message.rendered.attachments
            ]
        )
        listing.display = bool(message.rendered.attachments)
        if not keep_scroll:
            self.body.scroll_home(animate=False)

    def _show_body(self) -> None:
        if self.rendered is not None:
            text = body_content(self.rendered, self._fold_quotes)
            self.query_one("#view-text", Static).update(text)

    # -- actions -----------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        """Scroll down a line."""
        self.body.scroll_down(animate=False)

    def action_cursor_up(self) -> None:
        """Scroll up a line."""
        self.body.scroll_up(animate=False)

    def action_page_down(self) -> None:
        """Scroll down a page."""
        self.body.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        """Scroll up a page."""
        self.body.scroll_page_up(animate=False)

    def action_first(self) -> None:
        """The top of the message."""
        self.body.scroll_home(animate=False)

    def action_last(self) -> None:
        """The end of the message."""
        self.body.scroll_end(animate=False)

    @property
    def all_headers(self) -> bool:
        """Whether every header shows, not just the usual five (for this and later messages)."""
        return self._all_headers

    @all_headers.setter
    def all_headers(self, value: bool) -> None:
        self._all_headers = value

    def action_toggle_headers(self) -> None:
        """Every header, or the usual five."""
        self._all_headers = not self._all_headers
        self._start_render()

    def action_open_html(self) -> None:
        """The HTML part through the mailcap (a text/html entry), else the desktop's opener."""
        if self.scratch is None:
            self.scratch = attachments.scratch_dir()
        self.run_worker(
            mailcap_view.open_html(self, self._raw, self.scratch, self.opener),
            group="attachments",
            description="opening the HTML part",
            exit_on_error=False,
        )

    def action_toggle_html(self) -> None:
        """The HTML alternative (as text, its links for u) or the plain text part."""
        if self.rendered is not None and not self.rendered.html_alternative:
            self.notify("This message has no HTML part to switch to.", timeout=3)
            return
        self._prefer_html = not self._prefer_html
        self._start_render()

    def action_toggle_quotes(self) -> None:
        """Fold quoted text to one line each, or show it."""
        self._fold_quotes = not self._fold_quotes
        self._show_body()

    def action_attachments(self) -> None:
        """Move to the attachment list."""
        listing = self.query_one(AttachmentList)
        if listing.display:
            listing.focus()
            if listing.highlighted is None:
                listing.highlighted = 0
        else:
            self.notify("This message has no attachments.")

    def action_links(self) -> None:
        """List the message's links to open or copy one."""
        links = message_links(self.rendered) if self.rendered is not None else ()
        if not links:
            self.notify("This message has no links.", timeout=3)
            return
        from tuimail.ui.screens.link_picker import LinkPicker

        self.app.push_screen(LinkPicker(links, self.opener))

    def save_attachment(self, index: int) -> None:
        """Ask where (the last directory used, first Downloads), then save attachment
        ``index`` there."""
        raw = self._raw
        listed = self.rendered.attachments if self.rendered is not None else ()
        name = next((a.filename for a in listed if a.index == index), "the attachment")

        def chosen(directory: Path | None) -> None:
            if directory is not None:
                self.downloads = directory  # offered first next time
                self.run_worker(
                    self._save(raw, index, directory),
                    group="attachments",
                    description="saving the attachment",
                    exit_on_error=False,
                )

        from tuimail.ui.screens.save_prompt import SavePrompt

        self.app.push_screen(SavePrompt(name, self.downloads), chosen)

    async def _save(self, raw: bytes, index: int, directory: Path) -> None:
        path = await asyncio.to_thread(attachments.save_attachment, raw, index, directory)
        self.notify(f"Saved {path}", markup=False)

    def open_attachment(self, index: int) -> None:
        """Open attachment ``index`` with the desktop's opener; first ask (default no) when
        it is a kind of file that can run code, like mutt's confirmations."""
        listed = self.rendered.attachments if self.rendered is not None else ()
        found = next((a for a in listed if a.index == index), None)
        risk = code_risk(found.filename, found.content_type) if found is not None else None
        if found is None or risk is None:
            self._start_open(index)
            return

        def answered(answer: str | None) -> None:
            if answer == "y":
                self._start_open(index)
            else:
                self.notify(f"{found.filename} not opened; s saves it instead.", markup=False)

        question = f"{found.filename} is {risk}, which can run a program when opened. Open it?"
        from tuimail.ui.screens.choice import ChoiceScreen

        self.app.push_screen(ChoiceScreen(question, {"y": "open", "n": "don't open"}), answered)

    def _start_open(self, index: int) -> None:
        if self.scratch is None:
            self.scratch = attachments.scratch_dir()
        self.run_worker(
            self._open(self._raw, index, self.scratch),
            group="attachments",
            description="opening the attachment",
            exit_on_error=False,
        )

    async def _open(self, raw: bytes, index: int, scratch: Path) -> None:
        listed = self.rendered.attachments if self.rendered is not None else ()
        kind = next((a.content_type for a in listed if a.index == index), "")
        if await mailcap_view.open_attachment(self, raw, index, kind, scratch):
            return  # the user's mailcap had a viewer for it
        path = await asyncio.to_thread(
            attachments.open_attachment, raw, index, scratch, self.opener
        )
        self.notify(f"Opened {path.name}", markup=False)
