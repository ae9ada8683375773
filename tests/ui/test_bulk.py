"""A bulk action on 10,000 tagged messages: batches, a progress bar, Escape stops it cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from textual.pilot import Pilot
from textual.widgets import OptionList

from tests.ui.mailstore import NOW, fixed_clock, offline_config
from tests.ui.pilot import notifications, screen_text, settle
from tuimail.mail.envelope import Address, Envelope
from tuimail.store import queries
from tuimail.store.db import Store, open_store
from tuimail.store.records import NewMessage
from tuimail.sync.interface import ActionResult, MailAction
from tuimail.sync.service import StoreMailService
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.folder_picker import FolderPicker
from tuimail.ui.widgets.bulk_progress import BulkProgress
from tuimail.ui.widgets.message_index import MessageIndex

COUNT = 10_000
DEADLINE = 60  # seconds for anything the test waits on


class GatedService(StoreMailService):
    """The real service, holding the second batch until the test lets it go."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, offline_config())
        self.batches = 0
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def apply(self, action: MailAction) -> ActionResult:
        if self.batches == 1:
            self.holding.set()
            await self.release.wait()
        result = await super().apply(action)
        self.batches += 1
        return result


@pytest.fixture
async def big_store(tmp_path: Path) -> AsyncIterator[Store]:
    """One POP3-style account: 10,000 messages in INBOX, an empty Archive."""
    store = await open_store(tmp_path / "mail.sqlite3")
    sender = Address("Bulk Sender", "bulk@example.net")
    mail = [
        NewMessage(Envelope(None, f"offer {n}", (sender,), date=NOW - timedelta(minutes=n)))
        for n in range(COUNT)
    ]
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", "ann@example.org")
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox", is_local=True)
        await queries.ensure_folder(session, account, "Archive", is_local=True)
        await queries.insert_messages(session, inbox, mail)
        await queries.refresh_counts(session, inbox)
    try:
        yield store
    finally:
        await store.close()


async def counts(store: Store) -> dict[str, tuple[int, int]]:
    """Folder name -> (messages really there, the folder's stored count)."""
    async with store.session() as session:
        rows = await session.execute(
            text(
                "SELECT f.name, (SELECT count(*) FROM messages m WHERE m.folder_id = f.id), "
                "f.total_count FROM folders f"
            )
        )
        return {str(name): (int(real), int(stored)) for name, real, stored in rows}


async def move_all_to_archive(app: TuimailApp, pilot: Pilot[None], store: Store) -> None:
    """T tags all 10,000, ; s asks where to move them, Archive is chosen."""
    await settle(pilot)
    await pilot.press("T", "semicolon", "s")
    await settle(pilot)
    assert isinstance(app.screen, FolderPicker)
    async with store.session() as session:
        archive = await queries.folder_by_name(session, "home", "Archive")
    listing = app.screen.query_one(OptionList)
    listing.highlighted = listing.get_option_index(str(archive.id))
    await pilot.press("enter")


@pytest.mark.timeout(120)
async def test_escape_stops_a_bulk_move_between_batches_with_counts_right(
    big_store: Store,
) -> None:
    service = GatedService(big_store)
    app = TuimailApp(offline_config(), service=service, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await move_all_to_archive(app, pilot, big_store)
        await asyncio.wait_for(service.holding.wait(), DEADLINE)
        await pilot.pause()
        shown = screen_text(app)
        assert "Moving 10,000 messages" in shown and "1,000/10,000  Esc stops" in shown
        await pilot.press("escape")
        assert "stopping after this batch" in screen_text(app)
        service.release.set()
        await settle(pilot)
        assert not app.screen.query_one(BulkProgress).display
        assert "Stopped after 2,000 of 10,000: 2,000 messages moved to Archive — u to undo" in (
            notifications(app)
        )
        index = app.screen.query_one(MessageIndex)
        assert index.count == COUNT - 2_000 and not index.tagged
    assert await counts(big_store) == {"INBOX": (8_000, 8_000), "Archive": (2_000, 2_000)}


@pytest.mark.timeout(120)
async def test_a_bulk_move_left_alone_moves_everything_and_says_so_once(
    big_store: Store,
) -> None:
    service = StoreMailService(big_store, offline_config())
    app = TuimailApp(offline_config(), service=service, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await move_all_to_archive(app, pilot, big_store)
        await settle(pilot)
        assert "10,000 messages moved to Archive — u to undo" in notifications(app)
        assert app.screen.query_one(MessageIndex).count == 0
        await pilot.press("escape")  # nothing runs: Escape does nothing here
    assert await counts(big_store) == {"INBOX": (0, 0), "Archive": (COUNT, COUNT)}
