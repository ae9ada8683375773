"""The folder watcher: new mail from another client shows up through IDLE, and it reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import ssl
import time

import pytest

from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.sync.test_imap_sync import fill, server_state
from tuimail.errors import AuthError, ConnectionLost
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync import actions, watch
from tuimail.sync.imap_sync import FolderResult, sync_imap_account
from tuimail.sync.watch import FolderWatcher, backoff_delay


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel the watcher and wait until it has really ended (its connection closed)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


def append_from_another_client(dovecot: Dovecot, user: MailUser, subject: str) -> None:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    imap = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    imap.login(user.name, user.password)
    imap.append(
        "INBOX",
        "",
        imaplib.Time2Internaldate(time.time()),
        f"Subject: {subject}\r\n\r\nhi\r\n".encode(),
    )
    imap.logout()


async def test_new_mail_arrives_through_idle_within_two_seconds(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    cfg = account(imap_table(dovecot, mail_user))
    await sync_imap_account(store, "x", cfg)
    changes: asyncio.Queue[FolderResult] = asyncio.Queue()
    watcher = FolderWatcher(store, "x", cfg, "INBOX", changes.put_nowait)
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.idling.wait(), 10)
        started = time.monotonic()
        await asyncio.to_thread(append_from_another_client, dovecot, mail_user, "pushed")
        result = await asyncio.wait_for(changes.get(), 2)
        assert result.new == 1 and time.monotonic() - started < 2
    finally:
        await stop(task)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        [row] = await queries.list_messages(session, inbox.id)
    assert row.subject == "pushed"


async def test_lost_connections_are_retried_with_growing_jittered_delays(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = account(imap_table(dovecot, mail_user))
    await sync_imap_account(store, "x", cfg)
    real_connect = watch.connect
    failures = 3

    async def flaky(name: str, acc: object, **kwargs: object) -> object:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionLost("network is unreachable")
        return await real_connect(name, acc, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(watch, "connect", flaky)
    delays: list[float] = []

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    watcher = FolderWatcher(
        store, "x", cfg, "INBOX", lambda _r: None, sleep=no_wait, rng=lambda: 1.0
    )
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.connected.wait(), 10)
    finally:
        await stop(task)
    assert delays == [1.0, 2.0, 4.0]


def test_backoff_is_capped_and_jittered() -> None:
    assert backoff_delay(0, lambda: 0.0) == 0.5
    assert backoff_delay(20, lambda: 1.0) == watch.BACKOFF_MAX


async def test_a_refused_login_ends_the_watch(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    cfg = account(imap_table(dovecot, mail_user, password="wrong"))
    watcher = FolderWatcher(store, "x", cfg, "INBOX", lambda _r: None)
    with pytest.raises(AuthError):
        await asyncio.wait_for(watcher.run(), 10)


async def watching(
    store: Store, server: Dovecot, user: MailUser, count: int, lock: asyncio.Lock
) -> tuple[FolderWatcher, asyncio.Task[None], asyncio.Queue[FolderResult], list[int]]:
    """``count`` messages synced, and a watcher of INBOX IDLE on them: the watcher, its task,
    what it reports and INBOX's message ids."""
    fill(server, user, count)
    cfg = account(imap_table(server, user))
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        ids = await queries.folder_message_ids(session, inbox.id)
    changes: asyncio.Queue[FolderResult] = asyncio.Queue()
    watcher = FolderWatcher(store, "x", cfg, "INBOX", changes.put_nowait, lock=lock)
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(watcher.idling.wait(), 10)
    return watcher, task, changes, ids


async def test_without_qresync_the_watcher_sends_local_changes_before_it_syncs(
    store: Store,
    plain_dovecot: Dovecot,
    plain_user: MailUser,
) -> None:
    lock = asyncio.Lock()  # the account's: a pass waits for it
    _watcher, task, changes, ids = await watching(store, plain_dovecot, plain_user, 5, lock)
    try:
        async with store.session() as session:
            archive = await queries.folder_by_name(session, "x", "Archive")
            [read, moved, deleted] = await queries.messages_by_ids(session, ids[:3])
        # The user acts while news arrives: both wake the watcher for one pass.
        async with lock:
            await actions.set_flags(store, [read.id], add=frozenset({"\\Seen"}))
            await actions.move(store, [moved.id], archive.id)
            await actions.delete(store, [deleted.id])
            await asyncio.to_thread(append_from_another_client, plain_dovecot, plain_user, "new")
        result = await asyncio.wait_for(changes.get(), 10)
    finally:
        await stop(task)
    assert result.new == 1, "a message moved or deleted here came back"
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        rows = await queries.list_messages(session, inbox.id)
    assert "new" in {r.subject for r in rows} and len(rows) == 4
    assert moved.uid not in {r.uid for r in rows} and deleted.uid not in {r.uid for r in rows}
    assert next(r for r in rows if r.uid == read.uid).seen  # not overwritten by the server
    on_server = server_state(plain_dovecot, plain_user)
    assert len(on_server) == 4 and "\\Seen" in on_server[read.uid or 0]


async def test_a_read_mark_reaches_the_server_on_the_watchers_next_pass(
    store: Store,
    plain_dovecot: Dovecot,
    plain_user: MailUser,
) -> None:
    watcher, task, _changes, ids = await watching(
        store, plain_dovecot, plain_user, 3, asyncio.Lock()
    )
    try:
        async with store.session() as session:
            [row] = await queries.messages_by_ids(session, ids[:1])
        watcher.passed.clear()
        await actions.set_flags(store, [row.id], add=frozenset({"\\Seen"}))
        # No news from the server: the queued change itself ends the IDLE.
        await asyncio.wait_for(watcher.passed.wait(), 5)
        assert "\\Seen" in server_state(plain_dovecot, plain_user)[row.uid or 0]
        async with store.session() as session:
            [after] = await queries.messages_by_ids(session, ids[:1])
        assert after.seen
    finally:
        await stop(task)
