"""IMAP work on demand against the private Dovecot: bodies, server searches and APPENDs share
one logged-in connection per account."""

from __future__ import annotations

import asyncio
import subprocess
import time

from tests.harness.accounts import config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.sync.test_imap_sync import config as account_config
from tests.sync.test_imap_sync import fill, server_state
from tuimail.config import LoadedConfig
from tuimail.demo.mailbox import generate
from tuimail.mail.compose import Draft
from tuimail.mail.query import parse_query
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.composing import StoreComposer
from tuimail.sync.identities import identity_for
from tuimail.sync.imap_pool import ImapRemote
from tuimail.sync.imap_remote import append_to_role, fetch_body
from tuimail.sync.imap_sync import sync_imap_account
from tuimail.sync.service import StoreMailService


def imap_sessions(dovecot: Dovecot, user: MailUser) -> tuple[int, int]:
    """The user's IMAP logins and ended sessions, as Dovecot's log has them so far."""
    log = dovecot.log
    ended = (f"imap({user.name})<" in line and "Disconnected" in line for line in log.splitlines())
    return log.count(f"Login: user=<{user.name}>,"), sum(ended)


async def logins_once_all_ended(dovecot: Dovecot, user: MailUser) -> int:
    """The user's IMAP logins, read once every session's end is logged too (Dovecot's log
    process writes a moment after the event)."""
    deadline = time.monotonic() + 10
    while True:
        logins, ended = imap_sessions(dovecot, user)
        if ended >= logins or time.monotonic() > deadline:
            return logins
        await asyncio.sleep(0.05)


async def synced_inbox(
    store: Store, dovecot: Dovecot, user: MailUser, count: int
) -> tuple[LoadedConfig, int, list[int]]:
    """Account "x" with ``count`` messages synced (headers only): its INBOX's id and theirs."""
    fill(dovecot, user, count)
    loaded = config(x=imap_table(dovecot, user))
    await sync_imap_account(store, "x", loaded.account("x"))
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        return loaded, inbox.id, await queries.folder_message_ids(session, inbox.id)


async def test_bodies_are_fetched_on_demand_with_peek_and_cached(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    messages = list(generate(3, seed=4, malformed_every=0))
    dovecot.deliver(mail_user, [m.raw for m in messages])
    cfg = account_config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        [newest] = await queries.list_messages(session, inbox.id, limit=1)
    async with ImapRemote() as remote:
        raw = await fetch_body(store, remote.connection("x", cfg), newest.id)
    assert raw == next(m.raw for m in messages if m.message_id == newest.message_id)
    assert all("\\Seen" not in f for f in server_state(dovecot, mail_user).values())
    async with store.session() as session:
        assert await queries.get_body(session, newest.id) == raw


async def test_sent_copy_is_appended_to_the_servers_sent_folder(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    raw = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: sent one\r\n\r\nhello\r\n"
    async with ImapRemote() as remote:
        connection = remote.connection("x", account_config(dovecot, mail_user))
        await append_to_role(connection, "sent", raw, {"\\Seen"})
    assert list(server_state(dovecot, mail_user, "Sent").values()) == [frozenset({"\\Seen"})]


async def test_a_burst_of_body_fetches_searches_and_drafts_logs_in_once(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    loaded, inbox, ids = await synced_inbox(store, dovecot, mail_user, 60)
    before = await logins_once_all_ended(dovecot, mail_user)
    service = StoreMailService(store, loaded)
    composer = StoreComposer(store, loaded, service, remote=service.remote)
    me = identity_for(loaded.account("x"), None)
    draft_id = None
    opened = searched = postponed = 0
    for n in range(50):
        if n % 5 == 3:
            await service.search(parse_query("body:nothing-says-this"), inbox)
            searched += 1
        elif n % 5 == 4:
            draft_id = await composer.postpone(
                "x", Draft(me, (), (), (), "Plan", f"v{n}"), draft_id
            )
            postponed += 1
        else:
            assert b"Subject:" in await service.open_message(ids[opened])
            opened += 1
    await service.close()
    assert (opened, searched, postponed) == (30, 10, 10)
    assert await logins_once_all_ended(dovecot, mail_user) - before == 1


async def test_a_body_opens_after_the_server_dropped_the_kept_connection(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    loaded, _, (first, second) = await synced_inbox(store, dovecot, mail_user, 2)
    before = await logins_once_all_ended(dovecot, mail_user)
    service = StoreMailService(store, loaded)
    assert b"Subject:" in await service.open_message(first)
    kicked = subprocess.run(
        ["doveadm", "-c", str(dovecot.root / "dovecot.conf"), "kick", mail_user.name],
        capture_output=True,
        text=True,
    )
    assert kicked.returncode == 0, kicked.stderr
    assert await logins_once_all_ended(dovecot, mail_user) == before + 1, "kicked out"
    assert b"Subject:" in await service.open_message(second)
    await service.close()
    assert await logins_once_all_ended(dovecot, mail_user) == before + 2


async def test_an_idle_kept_connection_is_logged_out(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    loaded, _, [only] = await synced_inbox(store, dovecot, mail_user, 1)
    before = await logins_once_all_ended(dovecot, mail_user)
    remote = ImapRemote(idle_timeout=0.2)
    service = StoreMailService(store, loaded, remote=remote)
    assert b"Subject:" in await service.open_message(only)
    logins, ended = imap_sessions(dovecot, mail_user)
    deadline = time.monotonic() + 10
    while ended < logins and time.monotonic() < deadline:  # nobody calls close
        await asyncio.sleep(0.05)
        logins, ended = imap_sessions(dovecot, mail_user)
    assert (logins, ended) == (before + 1, before + 1)
    lines = dovecot.log.splitlines()
    mine = f"imap({mail_user.name})<"
    said_goodbye = sum(mine in line and "Logged out" in line for line in lines)
    assert said_goodbye == logins, "every session ended with LOGOUT"
