"""The interface's two-step start: the first screen before the store opens, the store after."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.harness.accounts import config, pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.store.test_queries import seeded
from tests.sync.test_pop3_fetch import deliver
from tuimail.errors import StoreError
from tuimail.mail.compose import Draft, Identity
from tuimail.store import queries, ui_queries
from tuimail.store.db import open_store
from tuimail.store.files import lock_store
from tuimail.sync.interface import ServiceEvent, SyncFinished
from tuimail.sync.startup import Startup

WORK = {"work": {"email": "ann@example.org", "imap": {"host": "localhost", "port": 9}}}


async def closed_seeded_store(path: Path, count: int) -> int:
    store = await open_store(path)
    try:
        return await seeded(store, count)
    finally:
        await store.close()


async def test_the_first_screen_is_answered_before_the_store_opens(data_dir: Path) -> None:
    path = data_dir / "mail.sqlite3"
    folder = await closed_seeded_store(path, 40)
    startup = Startup(path, config(**WORK), 30)
    startup.begin()
    mail = startup.mail

    # No finish(): the store is not open, yet the first screen is there.
    [account] = await mail.accounts()
    assert account.name == "work" and [f.name for f in account.folders] == ["INBOX"]
    head = await mail.message_ids(folder, 30)
    rows = await mail.rows(head[:10])
    assert len(head) == 30 and [row.id for row in rows] == head[:10]

    # The whole order and anything else wait for the store, then come from it.
    whole = asyncio.create_task(mail.message_ids(folder))
    count = asyncio.create_task(mail.outbox_count())
    await asyncio.sleep(0.05)
    assert not whole.done() and not count.done()
    store = await startup.finish()
    try:
        async with store.session() as session:
            expected = await ui_queries.ordered_ids(session, folder)
        assert await whole == expected and len(expected) == 40 and await count == 0
        assert expected[:30] == head
        # From now on the store answers, also what the snapshot had (it may be out of date).
        async with store.session() as session:
            await queries.set_flags(session, [head[0]], add=frozenset({"\\Flagged"}))
        assert (await mail.rows([head[0]]))[0].flagged
    finally:
        await store.close()


async def test_a_second_interface_is_refused_at_once(data_dir: Path) -> None:
    path = data_dir / "mail.sqlite3"
    await closed_seeded_store(path, 2)
    held = lock_store(path)
    try:
        with pytest.raises(StoreError, match="another tuimail"):
            Startup(path, config(**WORK), 30).begin()
    finally:
        os.close(held)


async def test_a_new_store_is_created_behind_an_empty_screen(data_dir: Path) -> None:
    startup = Startup(data_dir / "mail.sqlite3", config(**WORK), 30)
    startup.begin()
    assert startup.first is None
    accounts = asyncio.create_task(startup.mail.accounts())
    store = await startup.finish()
    try:
        assert [(a.name, a.folders) for a in await accounts] == [("work", ())]
    finally:
        await store.close()


async def test_a_store_that_cannot_open_fails_every_waiting_call(data_dir: Path) -> None:
    path = data_dir / "mail.sqlite3"
    data_dir.mkdir(parents=True)
    path.write_bytes(b"this is not a database " * 200)
    startup = Startup(path, config(**WORK), 30)
    startup.begin()
    waiting = asyncio.create_task(startup.mail.accounts())
    saving = asyncio.create_task(startup.composer.drafts())
    with pytest.raises(StoreError) as raised:
        await startup.finish()
    for task in (waiting, saving):
        with pytest.raises(StoreError) as failed:
            await task
        assert failed.value is raised.value
    lock_store(path)  # the lock was let go with the failure


async def test_writing_starts_before_the_store_opens_and_saves_after(data_dir: Path) -> None:
    path = data_dir / "mail.sqlite3"
    await closed_seeded_store(path, 1)
    startup = Startup(path, config(**WORK), 30)
    startup.begin()
    draft = startup.composer.new_draft("work")
    assert draft.from_identity == Identity("ann@example.org")
    saved = asyncio.create_task(
        startup.composer.autosave("work", Draft(draft.from_identity, subject="early"), None)
    )
    store = await startup.finish()
    try:
        draft_id = await saved
        [summary] = await startup.composer.drafts()
        assert (summary.draft_id, summary.subject) == (draft_id, "early")
    finally:
        await store.close()


async def test_a_sync_asked_for_before_the_store_opens_reports_to_early_listeners(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver(dovecot, mail_user, 3)
    path = data_dir / "mail.sqlite3"
    startup = Startup(path, config(home=pop3_table(dovecot, mail_user)), 30)
    startup.begin()
    heard: list[ServiceEvent] = []
    startup.mail.subscribe(heard.append)
    deaf: list[ServiceEvent] = []
    startup.mail.subscribe(deaf.append)()  # unsubscribed before the store opened

    syncing = asyncio.create_task(startup.mail.sync("home"))
    store = await startup.finish()
    try:
        finished = await syncing
        assert finished.outcome.ok and finished.new_messages == 3
        assert isinstance(heard[-1], SyncFinished) and heard[-1].new_messages == 3
        assert deaf == []
    finally:
        await store.close()
