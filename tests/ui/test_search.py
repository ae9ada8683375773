"""Searching from the interface: ``/`` in the folder, ``\\`` everywhere, ``l`` to limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.ui.mailstore import fixed_clock, offline_config
from tests.ui.pilot import screen_text, settle
from tuimail.store.db import open_store
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.screens.search import QueryPrompt
from tuimail.ui.widgets.message_index import MessageIndex


def make_app(store: Path) -> TuimailApp:
    return TuimailApp(offline_config(), store_path=store, clock=fixed_clock, start_sync=False)


async def count(store_path: Path, where: str) -> int:
    store = await open_store(store_path, readonly=True)
    try:
        async with store.session() as session:
            sql = (
                "SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id "
                f"WHERE {where}"
            )
            return int((await session.execute(text(sql))).scalar_one())
    finally:
        await store.close()


def index_of(app: TuimailApp) -> MessageIndex:
    return app.screen.query_one(MessageIndex)


def top(app: TuimailApp) -> Any:
    return app.screen


async def search_for(pilot: Any, key: str, query: str) -> None:
    await pilot.press(key)
    await settle(pilot)
    await pilot.press(*query, "enter")
    await settle(pilot)


async def test_slash_searches_the_open_folder_and_q_returns_to_it(generated_store: Path) -> None:
    app = make_app(generated_store)
    unread = await count(generated_store, "f.name = 'INBOX' AND m.seen = 0")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        whole = index_of(app).count
        await search_for(pilot, "slash", "is:unread")
        assert 0 < index_of(app).count == unread < whole
        assert "Search: is:unread" in screen_text(app)
        await pilot.press("q")
        await settle(pilot)
        assert index_of(app).count == whole
        assert isinstance(top(app), MainScreen)


async def test_backslash_searches_every_folder(generated_store: Path) -> None:
    app = make_app(generated_store)
    everything = await count(generated_store, "1")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await search_for(pilot, "backslash", "is:read OR is:unread")
        assert index_of(app).count == everything
        assert "Search (all folders)" in screen_text(app)


async def test_l_limits_the_index_and_l_again_shows_everything(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        whole = index_of(app).count
        await search_for(pilot, "l", "-is:unread")
        limited = index_of(app).count
        assert 0 < limited < whole
        assert "Limit: -is:unread" in screen_text(app)
        await pilot.press("l")
        await settle(pilot)
        assert index_of(app).count == whole


async def test_a_bad_query_says_why_and_keeps_the_prompt(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await search_for(pilot, "slash", "before:soon")
        assert isinstance(top(app), QueryPrompt)
        assert "YYYY-MM-DD" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(top(app), MainScreen)


async def test_results_can_be_acted_on(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await search_for(pilot, "slash", "is:unread")
        index = index_of(app)
        first = index.current_id
        assert first is not None
        await pilot.press("N")
        await settle(pilot)
        row = index.cached(first)
        assert row is not None and row.seen
        before = index.count
        await pilot.press("d")
        await settle(pilot)
        assert index.count == before - 1
        assert index.current_id != first


async def test_tagged_messages_take_one_action_together(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = index_of(app)
        whole = index.count
        await pilot.press("semicolon")
        assert isinstance(top(app), MainScreen)  # nothing tagged: nothing to ask
        await pilot.press("t", "t", "t", "k")  # tag three, untag the third again
        await pilot.press("t")
        assert len(index.tagged) == 2
        assert "*" in screen_text(app)
        await pilot.press("semicolon")
        assert "Act on 2 tagged messages" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert index.count == whole - 2
        assert not index.tagged
        assert await count(generated_store, "f.role = 'trash'") == 2
