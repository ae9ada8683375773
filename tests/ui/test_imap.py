"""Reading an IMAP account: the same screen, bodies fetched on demand, changes queued."""

from __future__ import annotations

import imaplib
import ssl
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from textual.widgets import OptionList

from tests.harness.accounts import account, config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.conftest import deliver_generated, synced_imap_app
from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import notifications, screen_text, settle, wait_for
from tuimail.store.db import open_store
from tuimail.sync.accounts import sync_account
from tuimail.sync.service import StoreMailService
from tuimail.sync.watch import FolderWatcher
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.folder_picker import FolderPicker
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.message_view import MessageView


async def test_an_imap_message_is_fetched_when_opened_and_flags_are_queued(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver_generated(dovecot, mail_user, 5, seed=21)
    table = imap_table(dovecot, mail_user)
    path = data_dir / "mail.sqlite3"
    store = await open_store(path)
    try:
        outcome = await sync_account(store, "work", account(table))
        assert outcome.ok, outcome.summary
        async with store.session() as session:
            bodies = (await session.execute(text("SELECT count(*) FROM message_bodies"))).scalar()
    finally:
        await store.close()
    assert bodies == 0, "offline = headers: no body is downloaded by the sync"
    app = TuimailApp(config(work=table), store_path=path, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        assert index.count == 5
        chosen = index.current_row
        assert chosen is not None
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        assert view.message_id == chosen.id and view.rendered is not None
        assert f"Subject: {chosen.subject}" in screen_text(app)
        await pilot.press("F")
        await settle(pilot)
    store = await open_store(path, readonly=True)
    try:
        async with store.session() as session:
            kinds = [k for (k,) in await session.execute(text("SELECT kind FROM pending_actions"))]
            bodies = (await session.execute(text("SELECT count(*) FROM message_bodies"))).scalar()
    finally:
        await store.close()
    assert bodies == 1, "the opened body is now cached"
    assert kinds == ["flags", "flags"], "seen on open, then the flag, both queued for the server"


async def test_new_mail_in_the_open_imap_folder_shows_up_through_idle(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver_generated(dovecot, mail_user, 3, seed=22)
    table = {**imap_table(dovecot, mail_user), "poll_interval": 3600}  # only IDLE is in time
    loaded = config(work=table)
    watchers: list[FolderWatcher] = []

    def recording(*args: Any, **kwargs: Any) -> FolderWatcher:
        watchers.append(FolderWatcher(*args, **kwargs))
        return watchers[-1]

    store = await open_store(data_dir / "mail.sqlite3")
    try:
        service = StoreMailService(store, loaded, watcher=recording)
        app = TuimailApp(loaded, service=service, clock=fixed_clock)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            index = app.screen.query_one(MessageIndex)
            assert index.count == 3
            await wait_for(pilot, lambda: bool(watchers) and watchers[-1].idling.is_set(), 10)
            started = time.monotonic()
            deliver_generated(dovecot, mail_user, 1, seed=23)
            await wait_for(pilot, lambda: index.count == 4, 2)
            assert time.monotonic() - started < 2, "IDLE brings new mail within 2 seconds"
            await settle(pilot)
            assert any("work: 1 new message" in note for note in notifications(app))
            assert len(watchers) == 1, "one watcher for the open folder"
    finally:
        await store.close()


async def test_tagged_messages_move_together_and_the_server_follows(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver_generated(dovecot, mail_user, 8, seed=24)
    app = await synced_imap_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        await pilot.press("t", "t", "t", "semicolon", "s")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, FolderPicker)
        names = [str(o.prompt) for o in picker.query_one(OptionList).options]
        await pilot.press(*["down"] * (names.index("Archive") + 1), "enter")
        await settle(pilot)
        assert index.count == 5, "the three leave the index at once"
        await pilot.press("dollar_sign")  # the sync replays the queued move on the server
        await settle(pilot)
    assert server_count(dovecot, mail_user, "INBOX") == 5
    assert server_count(dovecot, mail_user, "Archive") == 3


def server_count(dovecot: Dovecot, user: MailUser, folder: str) -> int:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    imap = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    imap.login(user.name, user.password)
    _status, data = imap.select(folder, readonly=True)
    imap.logout()
    return int(data[0] or 0)
