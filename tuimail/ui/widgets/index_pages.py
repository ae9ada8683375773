"""The index's row cache: which pages of a folder's order are here, which are being read.

Plain bookkeeping, no Textual: the widget asks which pages a range of lines needs, starts the
reads, and hands the rows back here. Rows are keyed by message id, so they stay valid when the
order changes (threads on, a message deleted); only the page numbers belong to one order, and a
new ``generation`` forgets those.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from tuimail.store.records import MessageRow

PAGE = 200  # rows per store read: one read fills several screens
CACHE_ROWS = 4000  # rows kept: the screens around where the user has been


class PageCache:
    """Rows by message id (least recently stored dropped first) and pages in flight."""

    def __init__(self, capacity: int = CACHE_ROWS) -> None:
        self.capacity = capacity
        self.rows: OrderedDict[int, MessageRow] = OrderedDict()
        self.loading: set[int] = set()
        self.failed: set[int] = set()  # reads that failed: asked again on the next move only
        self.generation = 0
        # Rows read for an older order are still good, unless the message changed since: the
        # generation of each id's last change, and of the last change to all of them.
        self._changed: dict[int, int] = {}
        self._all_changed = 0

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, message_id: int) -> MessageRow | None:
        """A cached row."""
        return self.rows.get(message_id)

    def new_order(self) -> None:
        """The order changed: pages in flight no longer mean the same lines."""
        self.generation += 1
        self.loading.clear()
        self.failed.clear()

    def forget(self, ids: Iterable[int] | None) -> None:
        """Drop rows that changed (all of them for None); reads already under way for them
        are ignored when they arrive (they may have read the store before the change)."""
        self.new_order()
        if ids is None or len(self._changed) > self.capacity:
            self.rows.clear()
            self._changed.clear()
            self._all_changed = self.generation
            return
        for pk in ids:
            self.rows.pop(pk, None)
            self._changed[pk] = self.generation

    def replace(self, ids: Iterable[int], rows: Sequence[MessageRow]) -> None:
        """Rows read after a change to ``ids``: they take the place of any read before."""
        self.forget(ids)
        self.keep(rows)

    def missing(self, order: Sequence[int], first_line: int, last_line: int) -> list[int]:
        """Pages covering lines ``first_line..last_line`` that have a row not cached or loading."""
        if not order:
            return []
        first_line = max(0, first_line)
        last_line = min(len(order) - 1, last_line)
        rows = self.rows
        return [
            page
            for page in range(first_line // PAGE, last_line // PAGE + 1)
            if page not in self.loading
            and any(pk not in rows for pk in order[page * PAGE : (page + 1) * PAGE])
        ]

    def start(self, order: Sequence[int], page: int) -> list[int]:
        """Mark a page as being read; returns the ids to read (those not cached)."""
        self.loading.add(page)
        rows = self.rows
        return [pk for pk in order[page * PAGE : (page + 1) * PAGE] if pk not in rows]

    def read_failed(self, generation: int, page: int) -> None:
        """A read failed: not in flight any more, and not asked again until the user moves
        (a paint asking again could fail, notify, repaint and ask again, without end)."""
        if generation == self.generation:
            self.loading.discard(page)
            self.failed.add(page)

    def arrived(self, generation: int, page: int, rows: Sequence[MessageRow]) -> None:
        """Rows read for ``page`` of order ``generation``; old orders' rows are still good."""
        if generation == self.generation:
            self.loading.discard(page)
        elif generation < self._all_changed:
            return
        else:
            changed = self._changed
            rows = [row for row in rows if changed.get(row.id, 0) <= generation]
        self.keep(rows)

    def keep(self, rows: Sequence[MessageRow]) -> None:
        """Cache rows (read for a page, or before the index asked: the first screen)."""
        cache = self.rows
        for row in rows:
            cache[row.id] = row
            cache.move_to_end(row.id)
        while len(cache) > self.capacity:
            cache.popitem(last=False)
