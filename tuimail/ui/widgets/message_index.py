"""The message index: a virtual list over a folder's ordered ids.

The folder's order (ids, or thread rows) arrives whole in one query; rows arrive in pages from a
worker into a small cache (``index_pages.PageCache``). ``render_line`` reads only that cache and
draws a placeholder on a miss, asking for the page after the paint: it never waits for the store.

The widget scrolls itself (``top`` is the first line shown) rather than being a ``ScrollView``:
a ScrollView's scroll makes the screen lay out and repaint every widget, which at 160x48 costs a
frame and more per cursor step at the bottom of the view. Here a cursor step repaints the two
lines that changed, and a scroll repaints this widget alone, from strips kept per row: a
one-line scroll moves every line, but only the line that came into view is built anew.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tuimail.mail.sanitize import sanitize_line
from tuimail.mail.threads import ThreadRow
from tuimail.store.records import MessageRow
from tuimail.ui import keys
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import (
    IndexPageLoaded,
    IndexPainted,
    OpenMessage,
    TagsChanged,
    ThreadsToggled,
)
from tuimail.ui.widgets.index_line import (
    DATE_WIDTH,
    NOTHING_HIDDEN,
    SIZE_WIDTH,
    Columns,
    Hidden,
    date_text,
    fit,
    flags_text,
    scrollbar_thumb,
    sender_text,
    size_text,
    subject_text,
    thread_prefix,
)
from tuimail.ui.widgets.index_pages import PAGE, PageCache

RowFetcher = Callable[[Sequence[int]], Awaitable[list[MessageRow]]]
WHEEL_LINES = 3
FOLDER_WIDTH = 14  # the folder column of a search of all folders
StripKey = tuple[MessageRow, int, bool, bool, ThreadRow | None, bool, int, str | None, date, Hidden]


class MessageIndex(ReportsFailures, Widget, can_focus=True):
    """One folder's messages, newest first or as threads, with a cursor."""

    KEY_SCOPE: ClassVar[keys.Scope] = "index"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("index"))
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-index--cursor",
        "message-index--unread",
        "message-index--flagged",
        "message-index--muted",
        "message-index--placeholder",
        "message-index--scrollbar",
        "message-index--scrollbar-thumb",
    }

    def __init__(
        self, fetch_rows: RowFetcher, clock: Callable[[], datetime], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._fetch_rows = fetch_rows
        self._clock = clock
        self.folder_id: int | None = None
        self.cursor = 0
        self.top = 0
        self._order: list[int] = []
        self._thread_rows: list[ThreadRow] | None = None
        self._threads: dict[int, ThreadRow] = {}
        self._thread_sizes: dict[int, int] = {}
        self._collapsed: set[int] = set()
        self._replies: dict[int, list[int]] = {}  # thread id -> its replies' ids
        self._replies_asked: set[int] = set()  # replies read for folded lines since the last change
        self._pages = PageCache()
        self.tagged: set[int] = set()  # ids marked with ``t`` for the next ``;`` action
        self._folder_names: dict[int, str] | None = None  # results of several folders
        self._wanted: set[int] = set()
        self._fetch_scheduled = False
        self._rich_styles: dict[str, Style] = {}
        # Per row id: what the strip was drawn from, and the strip (without the scrollbar cell).
        self._strips: dict[int, tuple[StripKey, Strip]] = {}
        self._thumb_for: tuple[int, int, int] = (0, 0, 0)
        self._thumb: range | None = None
        self.rows_painted = 0  # lines drawn from real rows; the benchmark waits on this

    # -- what the rest of the screen reads ---------------------------------------------------

    @property
    def count(self) -> int:
        """How many lines the index has (folded replies not counted)."""
        return len(self._order)

    @property
    def threaded(self) -> bool:
        """Whether the index shows threads."""
        return self._thread_rows is not None

    @property
    def current_id(self) -> int | None:
        """The message id under the cursor."""
        return self._order[self.cursor] if self._order else None

    @property
    def current_row(self) -> MessageRow | None:
        """The cached row under the cursor (None while its page is loading)."""
        current = self.current_id
        return self._pages.get(current) if current is not None else None

    def cached(self, message_id: int) -> MessageRow | None:
        """A row from the cache, if it is there."""
        return self._pages.get(message_id)

    # -- what the screen tells it ------------------------------------------------------------

    def set_order(
        self,
        folder_id: int,
        ids: list[int],
        threads: list[ThreadRow] | None,
        keep: int | None = None,
    ) -> None:
        """Show a folder's order; the cursor stays on ``keep`` if it is still there."""
        position = self.cursor
        if folder_id != self.folder_id:
            self._collapsed.clear()
            self.tagged.clear()
            self.post_message(TagsChanged(0))
            position, self.top = 0, 0
        self.folder_id = folder_id
        self._thread_rows = threads
        self._threads, self._thread_sizes = {}, {}
        if threads is not None:
            self._threads = {row.key: row for row in threads}
            for row in threads:
                self._thread_sizes[row.thread_id] = self._thread_sizes.get(row.thread_id, 0) + 1
        self._rebuild_order(ids)
        self._index_replies()
        self._place_cursor(keep, position)

    def preload(self, rows: Iterable[MessageRow]) -> None:
        """Rows already read (the store's first screen): lines show them without a read."""
        self._pages.keep(list(rows))

    def drop(self, ids: Sequence[int]) -> None:
        """Take messages out of the index (moved or deleted); the cursor keeps its line."""
        gone = set(ids)
        if self.tagged & gone:
            self.tagged -= gone
            self.post_message(TagsChanged(len(self.tagged)))
        if self._thread_rows is not None:
            self._thread_rows = [row for row in self._thread_rows if row.key not in gone]
        self._rebuild_order([pk for pk in self._order if pk not in gone])
        self._index_replies()
        self._pages.forget(gone)
        self._place_cursor(None, self.cursor)

    def toggle_tag(self, message_id: int) -> None:
        """Tag or untag one message."""
        self.tagged ^= {message_id}
        self.post_message(TagsChanged(len(self.tagged)))
        if message_id in self._order:
            self._refresh_line(self._order.index(message_id))

    def tag_all(self) -> int:
        """Tag every message shown, or untag them all if all are tagged; returns how many are."""
        shown = set(self._order)
        self.tagged = set() if shown and shown <= self.tagged else self.tagged | shown
        self.post_message(TagsChanged(len(self.tagged)))
        self.refresh()
        return len(self.tagged)

    def take_tagged(self) -> tuple[int, ...]:
        """The tagged ids in index order; the tags are cleared."""
        taken = tuple(pk for pk in self._order if pk in self.tagged)
        self.tagged.clear()
        self.post_message(TagsChanged(0))
        self.refresh()
        return taken

    def name_folders(self, names: dict[int, str] | None) -> None:
        """Show each line's folder (folder id -> name), for results from several folders;
        None: the lines of one folder, without."""
        self._folder_names = names
        self._strips.clear()
        self.refresh()

    def forget(self, ids: Sequence[int] | None) -> None:
        """Drop cached rows that changed (all for None); they are read again on the next paint."""
        self._pages.forget(ids)
        self._replies_asked.clear()
        self.refresh()

    def replace_rows(self, ids: Sequence[int], rows: Sequence[MessageRow]) -> None:
        """Rows read again after ``ids`` changed: shown at once, and a page read that started
        before the change cannot bring the old ones back."""
        self._pages.replace(ids, rows)
        self._replies_asked.clear()
        self.refresh()

    def rows_to_reread(self) -> list[int]:
        """The ids around the visible lines, to read again; other cached rows are dropped
        (read again when they come into view)."""
        height = self._height
        near = self._order[max(0, self.top - height) : self.top + 2 * height]
        keep = set(near)
        self._pages.forget([pk for pk in list(self._pages.rows) if pk not in keep])
        self._replies_asked.clear()
        return near

    def _rebuild_order(self, ids: list[int]) -> None:
        if self._thread_rows is None:
            self._order = ids
        else:
            collapsed = self._collapsed
            self._order = [
                row.key
                for row in self._thread_rows
                if row.depth == 0 or row.thread_id not in collapsed
            ]
        self._pages.new_order()

    def _index_replies(self) -> None:
        self._replies = {}
        self._replies_asked.clear()
        for row in self._thread_rows or ():
            if row.depth:
                self._replies.setdefault(row.thread_id, []).append(row.key)

    def _folded_replies(self, position: int) -> list[int]:
        """The replies hidden under line ``position`` (none unless it is a folded thread)."""
        thread = self._threads.get(self._order[position])
        if thread is None or thread.depth or thread.thread_id not in self._collapsed:
            return []
        return self._replies.get(thread.thread_id, [])

    def _hidden(self, position: int) -> Hidden:
        """What a folded line hides, from the cache; missing replies are asked for once."""
        replies = self._folded_replies(position)
        if not replies:
            return NOTHING_HIDDEN
        rows = [row for pk in replies if (row := self._pages.get(pk)) is not None]
        if len(rows) < len(replies) and not self._replies_asked.issuperset(replies):
            self._want(position // PAGE)
        return Hidden.of(rows)

    def _place_cursor(self, keep: int | None, position: int) -> None:
        if keep is not None and keep in self._order:
            position = self._order.index(keep)
        self.cursor = max(0, min(position, len(self._order) - 1))
        self.top = max(0, min(self.top, len(self._order) - self._height))
        self._scroll_to_cursor(center=True)
        self.refresh()
        self._ensure_loaded()

    # -- cursor and scrolling ----------------------------------------------------------------

    @property
    def _height(self) -> int:
        return max(1, self.size.height)

    def move_cursor(self, position: int) -> None:
        """Put the cursor on line ``position``; repaints only the lines that changed."""
        if not self._order:
            return
        position = max(0, min(position, len(self._order) - 1))
        old, self.cursor = self.cursor, position
        if old == position:
            return
        if self._scroll_to_cursor():
            self.refresh()
        else:
            self._refresh_line(old)
            self._refresh_line(position)
        self._ensure_loaded()

    def scroll_lines(self, lines: int) -> None:
        """Move the view without moving the cursor (mouse wheel)."""
        top = max(0, min(self.top + lines, len(self._order) - self._height))
        if top != self.top:
            self.top = top
            self.refresh()
            self._ensure_loaded()

    def _scroll_to_cursor(self, center: bool = False) -> bool:
        """Bring the cursor into view; True if the view moved."""
        height = self._height
        if self.top <= self.cursor < self.top + height:
            return False
        if center:
            top = self.cursor - height // 2
        elif self.cursor < self.top:
            top = self.cursor
        else:
            top = self.cursor - height + 1
        self.top = max(0, min(top, len(self._order) - height))
        return True

    def _refresh_line(self, position: int) -> None:
        if self.top <= position < self.top + self._height:
            self.refresh(Region(0, position - self.top, self.size.width, 1))

    def action_cursor_down(self) -> None:
        """Next message."""
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        """Previous message."""
        self.move_cursor(self.cursor - 1)

    def action_page_down(self) -> None:
        """One screen further; the cursor keeps its place on the screen."""
        self.scroll_lines(self._height)
        self.move_cursor(self.cursor + self._height)

    def action_page_up(self) -> None:
        """One screen back."""
        self.scroll_lines(-self._height)
        self.move_cursor(self.cursor - self._height)

    def action_first(self) -> None:
        """The newest message (the first line)."""
        self.move_cursor(0)

    def action_last(self) -> None:
        """The last line."""
        self.move_cursor(len(self._order) - 1)

    def action_open(self) -> None:
        """Read the message under the cursor."""
        if self.current_id is not None:
            self.post_message(OpenMessage(self.current_id))

    def action_toggle_threads(self) -> None:
        """Ask the screen for the other order."""
        self.post_message(ThreadsToggled())

    def action_collapse_thread(self) -> None:
        """Fold or unfold the thread under the cursor."""
        row = self._threads.get(self.current_id) if self.current_id is not None else None
        if row is None or self._thread_sizes.get(row.thread_id, 1) < 2:
            return
        self._collapsed ^= {row.thread_id}
        self._rebuild_order([])
        self._place_cursor(row.thread_id, self.cursor)

    def action_collapse_all(self) -> None:
        """Fold every thread, or unfold all when some are folded."""
        if self._thread_rows is None:
            return
        current = self._threads.get(self.current_id) if self.current_id is not None else None
        if self._collapsed:
            self._collapsed.clear()
        else:
            self._collapsed = {tid for tid, size in self._thread_sizes.items() if size > 1}
        self._rebuild_order([])
        self._place_cursor(current.thread_id if current else None, 0)

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        self.move_cursor(self.top + offset.y)
        if event.chain == 2:
            self.action_open()

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_lines(WHEEL_LINES)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_lines(-WHEEL_LINES)

    def _on_resize(self, event: events.Resize) -> None:
        self._scroll_to_cursor()
        self._ensure_loaded()

    # -- pages -------------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        """Ask for the pages around the visible lines, one screen either side."""
        height = self._height
        self._pages.failed.clear()  # the user moved: worth another try
        for page in self._pages.missing(self._order, self.top - height, self.top + 2 * height):
            self._want(page)

    def _want(self, page: int) -> None:
        if page in self._pages.loading or page in self._pages.failed:
            return
        self._wanted.add(page)
        if not self._fetch_scheduled:
            self._fetch_scheduled = True
            self.call_later(self._fetch_wanted)

    def _fetch_wanted(self) -> None:
        self._fetch_scheduled = False
        wanted, self._wanted = self._wanted, set()
        for page in sorted(wanted - self._pages.loading):
            ids = self._pages.start(self._order, page)
            for position in range(page * PAGE, min((page + 1) * PAGE, len(self._order))):
                for pk in self._folded_replies(position):  # their flags show on folded lines
                    if pk not in self._pages.rows and pk not in self._replies_asked:
                        self._replies_asked.add(pk)
                        ids.append(pk)
            if ids:
                self.run_worker(
                    self._load_page(self._pages.generation, page, ids),
                    group="index-pages",
                    description="reading the message index",
                    exit_on_error=False,
                )

    async def _load_page(self, generation: int, page: int, ids: list[int]) -> None:
        try:
            rows = await self._fetch_rows(ids)
        except BaseException:
            # Reported by the worker's failure handler; the lines stay placeholders until a
            # cursor move or scroll asks for the page again.
            self._pages.read_failed(generation, page)
            raise
        self.post_message(IndexPageLoaded(generation, page, rows))

    def on_index_page_loaded(self, message: IndexPageLoaded) -> None:
        """Rows arrived: cache them and repaint what is visible."""
        self._pages.arrived(message.generation, message.page, message.rows)
        self.refresh()

    # -- painting ----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        self._rich_styles.clear()
        self._strips.clear()
        super().notify_style_update()

    def _on_focus(self, event: events.Focus) -> None:
        self._rich_styles.clear()
        self._refresh_line(self.cursor)

    def _on_blur(self, event: events.Blur) -> None:
        self._rich_styles.clear()
        self._refresh_line(self.cursor)

    def _style(self, name: str) -> Style:
        style = self._rich_styles.get(name)
        if style is None:
            if name == "base":
                style = self.rich_style
            else:
                style = self.get_component_rich_style(f"message-index--{name}", partial=True)
            self._rich_styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        """One line of the index, from the cache only, with the scrollbar's cell at the end."""
        position = self.top + y
        width = max(0, self.size.width - 1)
        base = self._style("base")
        scrollbar = self._scrollbar_part(y)
        if position >= len(self._order):
            return self._with_scrollbar(Strip.blank(width, base), scrollbar, base)
        row = self._pages.get(self._order[position])
        if row is None:
            self._want(position // PAGE)
            style = base + self._style("placeholder")
            if position == self.cursor:
                style += self._style("cursor")
            line = Strip([Segment(fit("  …", width), style)], width)
            return self._with_scrollbar(line, scrollbar, base)
        if not self.rows_painted:
            self.post_message(IndexPainted())
        self.rows_painted += 1
        thread = self._threads.get(row.id)
        folded = thread is not None and thread.thread_id in self._collapsed
        size = self._thread_sizes.get(thread.thread_id, 1) if thread is not None else 1
        hidden = self._hidden(position) if folded else NOTHING_HIDDEN
        # The row object itself is part of the key: a changed message arrives as a new row.
        key: StripKey = (
            row,
            width,
            position == self.cursor,
            row.id in self.tagged,
            thread,
            folded,
            size,
            scrollbar,
            self._clock().date(),  # dates show as HH:MM today, so the day is part of the line
            hidden,
        )
        cached = self._strips.get(row.id)
        if cached is not None and _same_key(cached[0], key):
            return cached[1]
        if len(self._strips) > 4 * self._height + PAGE:
            self._strips.clear()  # only the lines on screen and near it are worth keeping
        line = self._row_strip(row, position, width, base, hidden)
        strip = self._with_scrollbar(line, scrollbar, base)
        self._strips[row.id] = (key, strip)
        return strip

    def _scrollbar_part(self, y: int) -> str | None:
        """Which part of the scrollbar line ``y`` shows: None, "scrollbar" or "scrollbar-thumb"."""
        where = (self._height, len(self._order), self.top)
        if where != self._thumb_for:
            self._thumb_for, self._thumb = where, scrollbar_thumb(*where)
        if self._thumb is None:
            return None
        return "scrollbar-thumb" if y in self._thumb else "scrollbar"

    def _with_scrollbar(self, line: Strip, part: str | None, base: Style) -> Strip:
        cell = Segment(" ", base if part is None else base + self._style(part))
        return Strip([*line, cell], line.cell_length + 1)

    def _row_strip(
        self, row: MessageRow, position: int, width: int, base: Style, hidden: Hidden
    ) -> Strip:
        columns = Columns.for_width(width)
        style = base
        if not row.seen or hidden.unread:
            style += self._style("unread")
        if row.flagged or hidden.flagged:
            style += self._style("flagged")
        muted = style + self._style("muted")
        if position == self.cursor:
            style += self._style("cursor")
            muted = style
        subject = subject_text(row)
        thread = self._threads.get(row.id)
        if thread is not None:
            folded = thread.depth == 0 and thread.thread_id in self._collapsed
            size = self._thread_sizes.get(thread.thread_id, 1)
            subject = (f"▸ ({size}) " if folded else "") + thread_prefix(thread) + subject
        segments = [
            Segment(flags_text(row, hidden) + ("*" if row.id in self.tagged else " "), style),
            Segment(fit(date_text(row.date, self._clock()), DATE_WIDTH) + " ", muted),
            Segment(fit(sender_text(row), columns.sender) + " ", style),
        ]
        subject_width = columns.subject
        if self._folder_names is not None:
            name = sanitize_line(self._folder_names.get(row.folder_id, "?"))
            folder_width = min(FOLDER_WIDTH, subject_width // 3)
            segments.append(Segment(fit(name, folder_width) + " ", muted))
            subject_width -= folder_width + 1
        segments.append(Segment(fit(subject, subject_width), style))
        if columns.size:
            segments.append(Segment(" " + size_text(row.size).rjust(SIZE_WIDTH), muted))
        return Strip(segments).crop_extend(0, width, style)


def _same_key(old: StripKey, new: StripKey) -> bool:
    """Equal keys, comparing the row by identity (a dataclass compare would read every field)."""
    return old[0] is new[0] and old[1:] == new[1:]
