"""One message of the conversation view: a one-line header, and when unfolded its text as the
message view shows it (quotes folded or dimmed, numbered links).

Everything shown comes from the store's row (through ``sanitize_line``) and from
``mail.render`` (already sanitised), put on screen as ``Content`` built from plain strings, so
nothing in a message is read as markup or reaches the terminal as an escape sequence.
"""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.style import Style
from textual.widgets import Static

from tuimail.mail.render import RenderedMessage
from tuimail.mail.sanitize import sanitize_line
from tuimail.store.records import MessageRow
from tuimail.ui.widgets.index_line import date_text, flags_text, sender_text, subject_text
from tuimail.ui.widgets.message_view import body_content

LOADING = "Fetching the message…"
Part = str | Content | tuple[str, str | Style]


def when_text(date: datetime | None, now: datetime) -> str:
    """The index's date with the time of day added (a conversation often spans one day)."""
    shown = date_text(date, now)
    if date is None or ":" in shown:
        return shown
    local = date.astimezone(now.tzinfo) if now.tzinfo is not None else date
    return f"{shown} {local.hour:02d}:{local.minute:02d}"


def header_parts(
    row: MessageRow, now: datetime, *, expanded: bool, show_subject: bool, tagged: bool
) -> list[Part]:
    """The card's first line: fold mark, sender, date, flags, the subject when it changed;
    a folded card adds the start of the text."""
    marks = ("*" if tagged else "") + flags_text(row).replace(" ", "")
    parts: list[Part] = [
        ("▾ " if expanded else "▸ ", "$text-accent"),
        (sender_text(row), "bold" if not row.seen else ""),
        ("  " + when_text(row.date, now), "$text-muted"),
    ]
    if marks:
        parts.append(("  " + marks, "bold $text-warning"))
    if show_subject:
        parts.append(("  " + subject_text(row), "italic"))
    if not expanded and row.preview:
        parts.append(("  " + sanitize_line(row.preview), "$text-muted"))
    return parts


def attachment_line(rendered: RenderedMessage) -> str:
    """The attachments' names on one line (``v`` in the message view lists them to save)."""
    names = ", ".join(a.filename for a in rendered.attachments)
    return f"[attached: {names}]" if names else ""


class MessageCard(Static):
    """A message of the conversation; folded it is its header line alone."""

    def __init__(self, row: MessageRow, now: datetime, *, show_subject: bool, fold: bool) -> None:
        super().__init__()
        self.row = row
        self.now = now
        self.show_subject = show_subject
        self.expanded = not row.seen  # unread mail opens, read mail folds to its header
        self.fold_quotes = fold  # quotes repeat earlier messages of the conversation
        self.rendered: RenderedMessage | None = None
        self.fetching = False
        self.tagged = False

    def on_mount(self) -> None:
        self.redraw()

    @property
    def message_id(self) -> int:
        """The store id of the message shown."""
        return self.row.id

    def needs_body(self) -> bool:
        """Unfolded and its text not yet asked for."""
        return self.expanded and self.rendered is None and not self.fetching

    def show_body(self, rendered: RenderedMessage) -> None:
        """The message's text arrived."""
        self.rendered, self.fetching = rendered, False
        self.redraw()

    def set_row(self, row: MessageRow) -> None:
        """The row read again (a flag changed)."""
        self.row = row
        self.redraw()

    def toggle(self) -> None:
        """Unfold or fold."""
        self.expanded = not self.expanded
        self.redraw()

    def toggle_quotes(self) -> None:
        """Show the quoted lines, or fold them again."""
        self.fold_quotes = not self.fold_quotes
        self.redraw()

    def redraw(self) -> None:
        """Draw the card again from what it holds."""
        parts = header_parts(
            self.row,
            self.now,
            expanded=self.expanded,
            show_subject=self.show_subject,
            tagged=self.tagged,
        )
        if self.expanded and self.rendered is None:
            parts.append(("\n" + LOADING, "$text-muted italic"))
        elif self.expanded and self.rendered is not None:  # the message view's text, as it is
            parts += ["\n", body_content(self.rendered, self.fold_quotes).rstrip()]
            if self.rendered.attachments:
                parts.append(("\n" + attachment_line(self.rendered), "$text-muted"))
        self.set_class(not self.expanded, "-folded")
        self.update(Content.assemble(*parts))
