"""The index is a virtual list: pages from a worker, a small cache, paints that never wait."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.worker import WorkerFailed

from tests.ui.mailstore import fixed_clock
from tests.ui.widgets.rows import make_row
from tuimail.mail.threads import ThreadRow
from tuimail.store.records import MessageRow
from tuimail.ui.messages import OpenMessage
from tuimail.ui.widgets.index_pages import CACHE_ROWS, PAGE
from tuimail.ui.widgets.message_index import MessageIndex

BIG = 100_000


class RowSource:
    """Rows made on demand; reads can be held back to catch the index between paint and data."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, ids: Sequence[int]) -> list[MessageRow]:
        self.calls.append(list(ids))
        await self.gate.wait()
        return [make_row(pk) for pk in ids]

    @property
    def rows_read(self) -> int:
        return sum(len(call) for call in self.calls)


class IndexApp(App[None]):
    def __init__(self, source: RowSource) -> None:
        super().__init__()
        self.source = source
        self.opened: list[int] = []

    def compose(self) -> ComposeResult:
        yield MessageIndex(self.source, fixed_clock, id="index")

    def on_open_message(self, message: OpenMessage) -> None:
        self.opened.append(message.message_id)


async def settled(app: IndexApp) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await asyncio.sleep(0)


def line_text(index: MessageIndex, y: int) -> str:
    return "".join(segment.text for segment in index.render_line(y))


async def test_a_100k_folder_reads_only_the_pages_around_the_screen() -> None:
    source = RowSource()
    app = IndexApp(source)
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, list(range(1, BIG + 1)), None)
        await pilot.pause()
        await settled(app)
        assert index.count == BIG
        assert source.rows_read <= 2 * PAGE and all(len(c) <= PAGE for c in source.calls)
        assert "Message 1 " in line_text(index, 0)
        await pilot.press("G")
        await pilot.pause()
        await settled(app)
        assert index.current_id == BIG
        assert source.rows_read <= 4 * PAGE, "jumping to the end reads the last page only"


async def test_painting_a_missing_row_shows_a_placeholder_and_never_waits_for_the_store() -> None:
    source = RowSource()
    source.gate.clear()  # the store is "slow": nothing arrives until the gate opens
    app = IndexApp(source)
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, list(range(1, 1001)), None)
        await pilot.pause()
        calls = len(source.calls)
        assert calls >= 1
        for y in range(20):
            assert line_text(index, y).strip() == "…"
        assert len(source.calls) == calls, "render_line itself never reads rows"
        source.gate.set()
        await settled(app)
        await pilot.pause()
        assert "Message 1 " in line_text(index, 0)


async def test_a_cursor_step_repaints_only_the_two_lines_that_changed() -> None:
    app = IndexApp(RowSource())
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, list(range(1, 501)), None)
        await settled(app)
        await pilot.pause()
        repainted: list[Region] = []
        original = index.refresh

        def spy(*regions: Region, **kwargs: object) -> object:
            repainted.extend(regions)
            return original(*regions, **kwargs)  # type: ignore[arg-type]

        index.refresh = spy  # type: ignore[method-assign,assignment]
        await pilot.press("j")
        assert index.cursor == 1
        assert sorted(region.y for region in repainted) == [0, 1]
        assert all(region.height == 1 for region in repainted)


async def test_a_one_line_scroll_draws_only_the_line_that_came_into_view() -> None:
    app = IndexApp(RowSource())
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, list(range(1, 501)), None)
        await settled(app)
        index.move_cursor(index.size.height - 1)  # the last line on screen
        await pilot.pause()
        built: list[int] = []
        original = index._row_strip

        def spy(row: MessageRow, *args: object) -> object:
            built.append(row.id)
            return original(row, *args)  # type: ignore[arg-type]

        index._row_strip = spy  # type: ignore[method-assign,assignment]
        await pilot.press("j")
        await pilot.pause()
        assert index.top == 1
        height = index.size.height
        # Drawn anew: the line that came into view (with the cursor), the one that lost the
        # cursor, and those the scrollbar's thumb moved onto or off; the rest are reused.
        assert {height, height + 1} <= set(built) and len(built) <= 4, built
        assert "Message 2 " in line_text(index, 0)


async def test_a_changed_row_tag_or_cursor_is_drawn_anew() -> None:
    source = RowSource()
    app = IndexApp(source)
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, list(range(1, 501)), None)
        await settled(app)
        await pilot.pause()
        assert "Message 1 " in line_text(index, 0) and "*" not in line_text(index, 0)[:6]
        index.toggle_tag(1)
        assert "*" in line_text(index, 0)[:6], "a tag shows at once"
        renamed = source.__call__

        async def changed(ids: Sequence[int]) -> list[MessageRow]:
            rows = await renamed(ids)
            return [replace(row, subject="Renamed") if row.id == 1 else row for row in rows]

        index._fetch_rows = changed
        index.forget([1])
        await pilot.pause()
        await settled(app)
        assert "Renamed" in line_text(index, 0), "a row read again replaces the drawn line"
        cursor_line = index.render_line(0)
        index.move_cursor(1)
        assert index.render_line(0) is not cursor_line, "the old cursor line loses its mark"


async def test_a_page_read_that_failed_is_asked_for_again_on_the_next_move() -> None:
    source = RowSource()
    app = IndexApp(source)
    real = source.__call__
    failures = [OSError("disk I/O error")]

    async def flaky(ids: Sequence[int]) -> list[MessageRow]:
        if failures:
            raise failures.pop()
        return await real(ids)

    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index._fetch_rows = flaky
        index.set_order(1, list(range(1, 501)), None)
        while failures or index._pages.loading:
            await pilot.pause()
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        assert "…" in line_text(index, 0), "the failed page shows placeholders"
        await pilot.press("j")
        await settled(app)
        await pilot.pause()
        assert "Message 1 " in line_text(index, 0), "the next move read the page again"


async def test_paging_through_a_big_folder_keeps_the_cache_small() -> None:
    source = RowSource()
    app = IndexApp(source)
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, list(range(1, BIG + 1)), None)
        for position in range(0, BIG, BIG // 40):  # 40 jumps: ten times the cache's worth
            index.move_cursor(position)
            await settled(app)
        assert len(index._pages) <= CACHE_ROWS
        await pilot.pause()
        assert index.current_row is not None


async def test_threads_fold_to_their_first_row_and_enter_opens_the_cursor_message() -> None:
    app = IndexApp(RowSource())
    threads = [
        ThreadRow(10, 0, 10, True, True),
        ThreadRow(11, 1, 10, False, True),
        ThreadRow(12, 2, 10, True, False),
        ThreadRow(13, 1, 10, True, False),
        ThreadRow(20, 0, 20, True, False),
    ]
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, [row.key for row in threads], threads)
        await settled(app)
        await pilot.pause()
        assert "└─ Message 12" in line_text(index, 2)
        await pilot.press("j", "z")
        assert index.count == 2 and index.current_id == 10
        assert "▸ (4) Message 10" in line_text(index, 0)
        await pilot.press("z", "Z")
        assert index.count == 2
        await pilot.press("Z", "G")
        index.action_open()  # Enter is the main screen's (it queues the read mark in turn)
        await pilot.pause()
        assert index.count == 5 and app.opened == [20]


async def test_dropping_messages_keeps_the_cursor_on_its_line() -> None:
    app = IndexApp(RowSource())
    async with app.run_test(size=(100, 30)) as pilot:
        index = app.query_one(MessageIndex)
        index.set_order(1, list(range(1, 11)), None)
        await settled(app)
        await pilot.press("j", "j")
        index.drop([3])
        assert index.count == 9 and index.current_id == 4
        index.drop([9, 10, 4, 5, 6, 7, 8])
        assert index.current_id == 2
        await pilot.pause()
