"""A network that dies silently (no FIN, no RST): the watcher notices by itself, comes back
when the network does, and what the user did meanwhile reaches the server afterwards.

The relay drops every byte while paused and keeps both sockets open, the way a sleeping laptop
or a NAT box that forgot the connection does. The watcher runs with a keepalive round every
second and a one-second deadline for answers, so an outage of a few seconds is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest

from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.relay import SilentRelay
from tests.sync.test_imap_sync import fill, server_state
from tests.sync.test_watch import append_from_another_client, stop
from tuimail.config import AccountConfig
from tuimail.errors import ConnectionLost
from tuimail.store import action_queries, queries
from tuimail.store.db import Store
from tuimail.sync import actions, imap_pool
from tuimail.sync.imap_pool import AccountConnection
from tuimail.sync.imap_remote import fetch_body
from tuimail.sync.imap_sync import FolderResult, sync_imap_account
from tuimail.sync.watch import FolderWatcher

pytestmark = pytest.mark.timeout(60)


@contextlib.asynccontextmanager
async def watched_through_relay(
    store: Store, dovecot: Dovecot, user: MailUser, on_change: Callable[[FolderResult], None]
) -> AsyncIterator[tuple[SilentRelay, FolderWatcher, AccountConfig]]:
    """INBOX synced and watched through a relay, the watcher in IDLE."""
    async with SilentRelay(dovecot.imaps_port) as relay:
        cfg = account(imap_table(dovecot, user, port=relay.port))
        await sync_imap_account(store, "x", cfg)
        watcher = FolderWatcher(store, "x", cfg, "INBOX", on_change, keepalive=1.0, deadline=1.0)
        task = asyncio.create_task(watcher.run())
        try:
            await asyncio.wait_for(watcher.idling.wait(), 10)
            yield relay, watcher, cfg
        finally:
            await stop(task)


async def test_new_mail_that_came_during_a_silent_outage_arrives_after_it_without_a_key(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    changes: asyncio.Queue[FolderResult] = asyncio.Queue()
    async with watched_through_relay(store, dovecot, mail_user, changes.put_nowait) as (
        relay,
        watcher,
        _cfg,
    ):
        accepted = relay.accepted
        relay.pause()
        await asyncio.to_thread(append_from_another_client, dovecot, mail_user, "in the outage")
        # Noticed without a key: the IDLE connection is given up, and a reconnect made while
        # the network is still down (it hears nothing either) is given up in turn.
        await asyncio.wait_for(relay.wait_accepted(accepted + 2), 15)
        assert not watcher.connected.is_set()
        relay.resume()
        back = time.monotonic()
        result = await asyncio.wait_for(changes.get(), 30)
        assert result.new == 1
        # With the test's one-second intervals the budget is a few seconds, not the 60 s the
        # defaults promise.
        assert time.monotonic() - back < 15
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        [row] = await queries.list_messages(session, inbox.id)
    assert row.subject == "in the outage"


async def test_a_flag_set_during_a_silent_outage_is_queued_at_once_and_on_the_server_after(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    fill(dovecot, mail_user, 3)
    async with watched_through_relay(store, dovecot, mail_user, lambda _r: None) as (
        relay,
        watcher,
        _cfg,
    ):
        async with store.session() as session:
            inbox = await queries.folder_by_name(session, "x", "INBOX")
            [first, *_] = await queries.list_messages(session, inbox.id)
        accepted = relay.accepted
        relay.pause()
        started = time.monotonic()
        await asyncio.wait_for(
            actions.set_flags(store, [first.id], add=frozenset({"\\Flagged"})), 2
        )
        assert time.monotonic() - started < 1, "the change is the store's at once"
        async with store.session() as session:
            queued = await action_queries.pending_actions(session, inbox.account_id)
        assert [a.kind for a in queued] == ["flags"]
        # The watcher tries to send it, hears nothing back, and gives the connection up.
        await asyncio.wait_for(relay.wait_accepted(accepted + 1), 15)
        watcher.passed.clear()
        relay.resume()
        await asyncio.wait_for(watcher.passed.wait(), 30)
    assert "\\Flagged" in server_state(dovecot, mail_user)[first.uid or 0]
    async with store.session() as session:
        assert await action_queries.pending_actions(session, inbox.account_id) == []


async def test_a_body_opened_during_a_silent_outage_fails_in_seconds_and_opens_after_it(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(dovecot, mail_user, 2)
    async with SilentRelay(dovecot.imaps_port) as relay:
        cfg = account(imap_table(dovecot, mail_user, port=relay.port))  # timeout = 20 s
        await sync_imap_account(store, "x", cfg)
        async with store.session() as session:
            inbox = await queries.folder_by_name(session, "x", "INBOX")
            first, second = await queries.folder_message_ids(session, inbox.id)
        kept = AccountConnection("x", cfg, deadline=1.0)
        try:
            assert b"Subject:" in await fetch_body(store, kept, first)
            monkeypatch.setattr(imap_pool, "PROBE_AFTER", 0.0)  # as if unused for a while
            relay.pause()
            started = time.monotonic()
            with pytest.raises(ConnectionLost):
                await asyncio.wait_for(fetch_body(store, kept, second), 10)
            # The check of the kept connection and one new one, not the 20 s timeout twice.
            assert time.monotonic() - started < 5
            relay.resume()
            assert b"Subject:" in await asyncio.wait_for(fetch_body(store, kept, second), 10)
        finally:
            await kept.close()
