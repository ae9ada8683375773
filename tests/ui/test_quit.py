"""``q`` on the index quits only after a confirmation (or a second ``q``), unless configured."""

from __future__ import annotations

import asyncio

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import screen_text, settle
from tuimail.config import LoadedConfig, UIConfig
from tuimail.store import outbox_queries, queries
from tuimail.store.db import open_store
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.screens.main import MainScreen


async def test_q_on_the_index_asks_before_quitting_and_n_stays(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert "Quit tuimail?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.is_running
        await pilot.press("q", "q")  # a second q quits
        await settle(pilot)
        assert app.return_code == 0 and app._exit


async def test_the_quit_question_mentions_unsent_messages_in_the_outbox(
    synced: SyncedMailbox,
) -> None:
    store = await open_store(synced.path)
    try:
        async with store.session() as session:
            account_pk = await queries.account_id(session, "home")
            raw = b"From: me@example.org\r\nTo: you@example.org\r\nSubject: hi\r\n\r\nhi\r\n"
            await outbox_queries.enqueue(
                session, account_pk, raw, "me@example.org", ["you@example.org"], "<q@x>"
            )
    finally:
        await store.close()
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert "1 message in the outbox is not sent yet" in screen_text(app)


async def test_confirm_quit_false_quits_on_the_first_q(synced: SyncedMailbox) -> None:
    quick = UIConfig(confirm_quit=False)
    synced.config = LoadedConfig(synced.config.config.model_copy(update={"ui": quick}), None, [])
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert app._exit, "quit at once"


async def test_q_q_typed_before_the_question_shows_quits(synced: SyncedMailbox) -> None:
    # The question waits for the outbox to be counted; a q typed meanwhile is the second q.
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        counted = asyncio.Event()
        count_outbox = screen.service.outbox_count

        async def slow_count() -> int:
            await counted.wait()
            return await count_outbox()

        screen.service.outbox_count = slow_count  # type: ignore[method-assign]
        await pilot.press("q")
        await pilot.press("q")
        await settle(pilot)
        assert app._exit, "the second q quit before the question showed"
        counted.set()
