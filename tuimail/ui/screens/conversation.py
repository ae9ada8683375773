"""The conversation view: the whole thread of a message in one scrolling pane, oldest first.

Unread messages open, read ones fold to their header line (Enter unfolds); in every message
after the first, quoted text folds to one line (``z`` shows it): it repeats what the
conversation shows above. The thread is the index's (JWZ threading over the message's folder).

A message's text is fetched only when its unfolded card comes into view, in workers, so a
50-message thread opens at once and keys work while bodies arrive. The cursor is a message,
always one on screen: it starts on the index's message, and when scrolling leaves it behind it
moves to one in view, so a key never acts on a message the user cannot see. A message is
marked read once its text has shown under the cursor. Message keys (delete, flag, reply...)
run the main screen's own actions on the message under the cursor (``MainScreen.act_on``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from tuimail.mail.render import RenderedMessage, render_message
from tuimail.mail.threads import normalize_subject
from tuimail.store.records import MessageRow
from tuimail.sync.interface import ActionResult
from tuimail.ui import keys
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.widgets.index_line import subject_text
from tuimail.ui.widgets.message_card import MessageCard
from tuimail.ui.widgets.message_index import MessageIndex

if TYPE_CHECKING:
    from tuimail.ui.screens.main import MainScreen


@dataclass
class ConversationRead(Message, bubble=False):
    """The thread's rows, oldest first, and which one the cursor starts on."""

    rows: list[MessageRow]
    chosen: int


@dataclass
class BodyRendered(Message, bubble=False):
    """A message's text, laid out."""

    message_id: int
    rendered: RenderedMessage


@dataclass
class RowsReread(Message, bubble=False):
    """Rows read again after an action changed them."""

    rows: list[MessageRow]


def oldest_first(rows: list[MessageRow]) -> list[MessageRow]:
    """Rows by date, then by store id (messages without a date first)."""
    return sorted(rows, key=lambda row: (row.date.timestamp() if row.date else 0.0, row.id))


class ConversationScreen(ReportsFailures, Screen[None]):
    """A thread on one screen."""

    KEY_SCOPE: ClassVar[keys.Scope] = "conversation"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("conversation"))
    CSS_PATH = "conversation.tcss"

    def __init__(self, main: MainScreen, message_id: int) -> None:
        super().__init__()
        self.main = main
        self.service = main.service
        self.clock: Callable[[], datetime] = main.clock
        self.chosen = message_id  # the index's message; then the one under the cursor
        self.cards: list[MessageCard] = []
        self.cursor = 0
        self._stop_listening: Callable[[], None] | None = None
        self._pinned: MessageCard | None = None  # the card j, k, g, G put at the top
        self._marked: set[int] = set()  # marked read on this visit

    def compose(self) -> ComposeResult:
        yield Static(Content("Reading the conversation…"), id="conversation-title")
        yield VerticalScroll(id="conversation")
        yield Footer()

    @property
    def pane(self) -> VerticalScroll:
        """The scrolling pane of cards."""
        return self.query_one("#conversation", VerticalScroll)

    @property
    def current(self) -> MessageCard | None:
        """The card under the cursor."""
        return self.cards[self.cursor] if self.cards else None

    def on_mount(self) -> None:
        self.pane.focus()
        self._stop_listening = self.main.listen_to_results(self._on_result)
        self.watch(self.pane, "scroll_y", self._scrolled, init=False)
        self.run_worker(
            self._read_thread(self.chosen),
            group="conversation",
            exclusive=True,
            description="reading the conversation",
            exit_on_error=False,
        )

    def on_unmount(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()

    # -- reading -----------------------------------------------------------------------------

    async def _read_thread(self, message_id: int) -> None:
        chosen = await self.service.rows([message_id])
        if not chosen:
            return
        threads = await self.service.thread_rows(chosen[0].folder_id)
        thread_id = next((row.thread_id for row in threads if row.key == message_id), None)
        ids = [row.key for row in threads if row.thread_id == thread_id] or [message_id]
        rows = oldest_first(await self.service.rows(ids))
        self.post_message(ConversationRead(rows, message_id))

    async def on_conversation_read(self, message: ConversationRead) -> None:
        """Lay the cards out, unread open and read folded, the cursor on the index's message."""
        now = self.clock()
        tagged = self.main.query_one(MessageIndex).tagged
        subject: str | None = None
        for number, row in enumerate(message.rows):
            topic = normalize_subject(row.subject)
            card = MessageCard(row, now, show_subject=topic != subject, fold=number > 0)
            card.tagged = row.id in tagged
            subject = topic
            self.cards.append(card)
        first = message.rows[0] if message.rows else None
        title = subject_text(first) if first is not None else ""
        many = len(message.rows)
        self.query_one("#conversation-title", Static).update(
            Content(f"{title} — {many} message{'s' if many != 1 else ''}")
        )
        await self.pane.mount_all(self.cards)
        ids = [card.message_id for card in self.cards]
        self.call_after_refresh(self._move, ids.index(message.chosen))

    def _in_view(self, card: MessageCard) -> bool:
        top = self.pane.scroll_y
        region = card.virtual_region
        return region.bottom > top and region.y < top + self.pane.scrollable_content_region.height

    def _fetch_visible(self) -> None:
        """Fetch the text of every unfolded card in view that has none yet."""
        for card in self.cards:
            if card.needs_body() and self._in_view(card):
                card.fetching = True
                self.run_worker(
                    self._fetch(card.message_id),
                    group="conversation-bodies",
                    description="fetching a message of the conversation",
                    exit_on_error=False,
                )

    async def _fetch(self, message_id: int) -> None:
        raw = await self.service.open_message(message_id)
        rendered = await asyncio.to_thread(render_message, raw)
        self.post_message(BodyRendered(message_id, rendered))

    def on_body_rendered(self, message: BodyRendered) -> None:
        """Show the text (the cursor's message is read now)."""
        card = self._card(message.message_id)
        if card is None:
            return
        card.show_body(message.rendered)
        if card is self.current:
            self._mark_read(card)
        self.call_after_refresh(self._pin)  # the cards below moved

    def _mark_read(self, card: MessageCard) -> None:
        """A message is read once its text has shown under the cursor, as opening it in the
        index reads it; once per visit, so ``N`` keeps it unread. Only the cursor's: the
        others the user may not have looked at."""
        if card.row.seen or card.rendered is None or card.message_id in self._marked:
            return
        self._marked.add(card.message_id)
        self.main.queue_step(
            partial(self.service.mark_opened, card.message_id), "marking the message read"
        )

    def _card(self, message_id: int) -> MessageCard | None:
        return next((card for card in self.cards if card.message_id == message_id), None)

    # -- the cursor --------------------------------------------------------------------------

    def _move(self, position: int) -> None:
        """Put the cursor on card ``position`` and scroll its header to the top."""
        if not self.cards:
            return
        self._set_cursor(max(0, min(position, len(self.cards) - 1)))
        self._pinned = self.cards[self.cursor]
        self._pin()

    def _pin(self) -> None:
        """Scroll the pinned card's header to the top (as far as the cards below allow: texts
        that arrive later make room, and it is scrolled again)."""
        card = self._pinned
        if card is not None and card.is_mounted:
            self.pane.scroll_to(y=card.virtual_region.y, animate=False, immediate=True)
        self._fetch_visible()

    def _set_cursor(self, position: int) -> None:
        if self.cards:
            self.cards[self.cursor].remove_class("-current")
        self.cursor = position
        self.cards[position].add_class("-current")
        self.chosen = self.cards[position].message_id
        self._mark_read(self.cards[position])

    def _scrolled(self) -> None:
        """Scrolling that leaves the cursor's card out of view moves the cursor into view."""
        if not self.cards:
            return
        if not self._in_view(self.cards[self.cursor]):
            shown = [n for n, card in enumerate(self.cards) if self._in_view(card)]
            if shown:
                nearest = min(shown, key=lambda n: abs(n - self.cursor))
                self._set_cursor(nearest)
                self._pinned = None
        self._fetch_visible()

    def action_cursor_down(self) -> None:
        """The next message."""
        self._move(self.cursor + 1)

    def action_cursor_up(self) -> None:
        """The previous message."""
        self._move(self.cursor - 1)

    def action_page_down(self) -> None:
        """A page further."""
        self._pinned = None
        self.pane.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        """A page back."""
        self._pinned = None
        self.pane.scroll_page_up(animate=False)

    def action_first(self) -> None:
        """The first message."""
        self._move(0)

    def action_last(self) -> None:
        """The last message."""
        self._move(len(self.cards) - 1)

    def action_toggle_message(self) -> None:
        """Unfold or fold the message under the cursor."""
        card = self.current
        if card is not None:
            card.toggle()
            self._pinned = card
            self.call_after_refresh(self._pin)

    def action_toggle_quotes(self) -> None:
        """Show or fold the quoted text of the message under the cursor."""
        card = self.current
        if card is not None:
            card.toggle_quotes()

    def action_close(self) -> None:
        """Back to the index, its cursor on the message chosen here."""
        chosen = self.chosen
        self.dismiss()
        self.main.select_message(chosen)

    # -- message keys: the main screen's actions on the message under the cursor -------------

    def _act(self, action: str) -> None:
        card = self.current
        if card is not None:
            self.main.act_on(card.message_id, action)

    def action_tag(self) -> None:
        """Tag or untag the message (for ``;`` in the index) and go to the next."""
        card = self.current
        if card is not None:
            index = self.main.query_one(MessageIndex)
            index.toggle_tag(card.message_id)
            card.tagged = card.message_id in index.tagged
            card.redraw()
            self._move(self.cursor + 1)

    def action_delete(self) -> None:
        """Delete (to Trash)."""
        self._act("delete")

    def action_move(self) -> None:
        """Move to a folder."""
        self._act("move")

    def action_copy(self) -> None:
        """Copy to a folder."""
        self._act("copy")

    def action_toggle_read(self) -> None:
        """Mark read or unread."""
        self._act("toggle_read")

    def action_flag(self) -> None:
        """Flag or unflag."""
        self._act("flag")

    def action_reply(self) -> None:
        """Reply to the sender."""
        self._act("reply")

    def action_group_reply(self) -> None:
        """Reply to all."""
        self._act("group_reply")

    def action_list_reply(self) -> None:
        """Reply to the list."""
        self._act("list_reply")

    def action_forward(self) -> None:
        """Forward inline."""
        self._act("forward")

    def action_forward_attached(self) -> None:
        """Forward as an attachment."""
        self._act("forward_attached")

    def action_copy_text(self) -> None:
        """Copy the message text."""
        self._act("copy_text")

    def action_copy_sender(self) -> None:
        """Copy the sender's address."""
        self._act("copy_sender")

    def action_pipe(self) -> None:
        """Pipe to a shell command."""
        self._act("pipe")

    def action_save_to_file(self) -> None:
        """Save to a file."""
        self._act("save_to_file")

    # -- results of actions ------------------------------------------------------------------

    def _on_result(self, result: ActionResult) -> None:
        """Drop the cards of messages that left the folder; read changed rows again."""
        gone = set(result.removed)
        if gone & {card.message_id for card in self.cards}:
            self._drop(gone)
        changed = [card.message_id for card in self.cards if card.message_id in result.changed]
        if changed:
            self.run_worker(
                self._reread(changed),
                group="conversation-rows",
                description="reading the conversation again",
                exit_on_error=False,
            )

    def _drop(self, gone: set[int]) -> None:
        current = self.current
        kept = [card for card in self.cards if card.message_id not in gone]
        for card in self.cards:
            if card.message_id in gone:
                card.remove()
        self.cards = kept
        if not kept:
            self.dismiss()
            return
        if current is not None and current in kept:
            self.cursor = kept.index(current)
        else:
            self.cursor = min(self.cursor, len(kept) - 1)
            self._set_cursor(self.cursor)
        self.call_after_refresh(self._fetch_visible)

    async def _reread(self, ids: list[int]) -> None:
        self.post_message(RowsReread(await self.service.rows(ids)))

    def on_rows_reread(self, message: RowsReread) -> None:
        """Redraw the headers of rows that changed."""
        for row in message.rows:
            card = self._card(row.id)
            if card is not None:
                card.set_row(row)
