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
from tuimail.errors import AuthError, ConnectionLost
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync import watch
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

    async def flaky(name: str, acc: object) -> object:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionLost("network is unreachable")
        return await real_connect(name, acc)  # type: ignore[arg-type]

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
