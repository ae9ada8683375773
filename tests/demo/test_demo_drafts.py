"""The demo's draft on the server ("Re: Lunch on Friday?") is offered by ``P`` and reopens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demo.test_servers import loaded, servers  # noqa: F401 (fixtures)
from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import screen_text, settle
from tuimail.config import LoadedConfig
from tuimail.store import queries, ui_queries
from tuimail.store.db import open_store
from tuimail.sync.accounts import sync_account
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.screens.draft_picker import DraftPicker

pytestmark = pytest.mark.timeout(60)


async def _sync(path: Path, demo: LoadedConfig) -> list[str]:
    """Sync the demo account; the subjects of its Drafts folder afterwards."""
    store = await open_store(path)
    try:
        assert (await sync_account(store, "demo", demo.account("demo"))).ok
        async with store.session() as session:
            account_pk = await queries.account_id(session, "demo")
            drafts = await queries.folder_with_role(session, account_pk, "drafts")
            assert drafts is not None
            ids = await ui_queries.ordered_ids(session, drafts.id)
            return [row.subject for row in await queries.messages_by_ids(session, ids)]
    finally:
        await store.close()


async def test_p_offers_the_demo_draft_on_the_server_and_postponing_replaces_it(
    data_dir: Path,
    loaded: LoadedConfig,  # noqa: F811
) -> None:
    path = data_dir / "mail.sqlite3"
    before = await _sync(path, loaded)
    assert "Re: Lunch on Friday?" in before
    app = TuimailApp(loaded, store_path=path, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, DraftPicker)
        assert "Re: Lunch on Friday?" in screen_text(app)
        titles = [d.subject for d in app.screen.items]
        await pilot.press(*["down"] * titles.index("Re: Lunch on Friday?"), "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert screen.draft.subject == "Re: Lunch on Friday?"
        await pilot.press("ctrl+o")
        await settle(pilot)
    after = await _sync(path, loaded)
    assert sorted(after) == sorted(before), "the draft was replaced, not joined by a second copy"
