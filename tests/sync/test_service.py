"""The UI's mail service over a real store: reads in index order, local actions, sync events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.harness.accounts import imap_table
from tests.harness.dovecot import Dovecot, MailUser, free_port
from tests.ui.mailstore import fill_store, offline_config
from tuimail.config import AccountConfig, parse_config
from tuimail.errors import MessageNotFound, NotAllowed
from tuimail.mail.envelope import Envelope
from tuimail.mail.query import parse_query
from tuimail.store import outbox_queries, queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState, MessageRow, NewMessage
from tuimail.sync.interface import (
    MailAction,
    NewMail,
    ProgressCallback,
    ServiceEvent,
    SyncFinished,
    SyncOutcome,
    SyncProgress,
)
from tuimail.sync.service import StoreMailService

COUNT = 30


@pytest.fixture
async def filled(store: Store) -> tuple[StoreMailService, dict[str, int]]:
    folders = await fill_store(store, count=COUNT)
    return StoreMailService(store, offline_config()), folders


async def scalar(store: Store, sql: str, **params: Any) -> Any:
    async with store.session() as session:
        return (await session.execute(text(sql), params)).scalar()


async def folder(service: StoreMailService, name: str) -> FolderState:
    accounts = await service.accounts()
    return next(f for f in accounts[0].folders if f.name == name)


async def test_accounts_follow_the_config_with_special_folders_first(store: Store) -> None:
    await fill_store(store, count=3)
    config = parse_config(
        {
            "accounts": {
                "home": {
                    "email": "a@example.org",
                    "pop3": {"host": "localhost", "security": "none"},
                },
                "new": {
                    "email": "b@example.org",
                    "pop3": {"host": "localhost", "security": "none"},
                },
            }
        }
    )
    accounts = await StoreMailService(store, config).accounts()
    assert [a.name for a in accounts] == ["home", "new"]
    assert [f.name for f in accounts[0].folders] == ["INBOX", "Drafts", "Sent", "Trash", "Archive"]
    assert accounts[1].folders == ()


async def test_ids_come_newest_first_and_rows_in_the_order_asked(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, folders = filled
    ids = await service.message_ids(folders["INBOX"])
    rows = await service.rows(ids[:10])
    assert [row.id for row in rows] == ids[:10]
    dates = [row.date for row in await service.rows(ids) if row.date is not None]
    assert dates == sorted(dates, reverse=True)


async def test_thread_rows_cover_the_folder_and_put_replies_under_parents(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, folders = filled
    threads = await service.thread_rows(folders["INBOX"])
    assert sorted(r.key for r in threads) == sorted(await service.message_ids(folders["INBOX"]))
    assert any(row.depth > 0 for row in threads)


async def test_open_message_returns_the_stored_bytes(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, folders = filled
    first = (await service.message_ids(folders["INBOX"]))[0]
    assert (await service.open_message(first)).startswith(b"Return-Path:")


async def headers_only(store: Store, folder_pk: int) -> int:
    async with store.session() as session:
        (pk,) = await queries.insert_messages(
            session, folder_pk, [NewMessage(Envelope("<h@x>", "headers only"), uid=7)]
        )
    return pk


async def test_a_body_never_downloaded_is_fetched_through_the_hook(store: Store) -> None:
    folders = await fill_store(store, count=2)
    pk = await headers_only(store, folders["Archive"])
    with pytest.raises(MessageNotFound, match="no copy in the store"):
        await StoreMailService(store, offline_config()).open_message(pk)

    class Fetcher:
        async def fetch_body(self, folder: FolderState, row: MessageRow) -> bytes:
            assert folder.name == "Archive" and row.uid == 7
            return b"fetched"

    service = StoreMailService(store, offline_config(), body_fetcher=Fetcher())
    assert await service.open_message(pk) == b"fetched"


async def test_seen_and_flag_changes_reach_rows_and_counts(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, folders = filled
    unread = [r.id for r in await service.rows(await service.message_ids(folders["INBOX"]))][:40]
    before = (await folder(service, "INBOX")).unread_count
    rows = [r for r in await service.rows(unread) if not r.seen][:2]
    ids = tuple(r.id for r in rows)
    result = await service.apply(MailAction("seen", ids))
    assert result.changed == ids and result.folders == {folders["INBOX"]}
    assert (await folder(service, "INBOX")).unread_count == before - 2
    await service.apply(MailAction("flag", ids[:1]))
    await service.apply(MailAction("unseen", ids))
    after = await service.rows(ids)
    assert [r.flagged for r in after] == [True, False] and not any(r.seen for r in after)
    await service.apply(MailAction("unflag", ids[:1]))
    assert not (await service.rows(ids[:1]))[0].flagged


async def test_delete_moves_to_trash_and_delete_in_trash_removes_bytes_and_search(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, folders = filled
    pk = (await service.message_ids(folders["INBOX"]))[0]
    result = await service.apply(MailAction("delete", (pk,)))
    assert result.removed == (pk,) and "Trash" in result.summary
    assert await service.message_ids(folders["Trash"]) == [pk]
    assert (await folder(service, "Trash")).total_count == 1
    result = await service.apply(MailAction("delete", (pk,)))
    assert result.summary == "1 message deleted"
    assert await service.message_ids(folders["Trash"]) == []
    store = service.store
    assert (
        await scalar(store, "SELECT count(*) FROM message_bodies WHERE message_pk = :p", p=pk) == 0
    )
    assert await scalar(store, "SELECT count(*) FROM messages_fts WHERE rowid = :p", p=pk) == 0


async def test_without_a_trash_folder_delete_removes_for_good(store: Store) -> None:
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", "a@example.org")
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox", is_local=True)
        (pk,) = await queries.insert_messages(session, inbox, [NewMessage(Envelope("<1@x>", "s"))])
    service = StoreMailService(store, offline_config())
    result = await service.apply(MailAction("delete", (pk,)))
    assert result.summary == "1 message deleted"
    assert await service.message_ids(inbox) == []


async def test_move_and_copy_between_local_folders(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, folders = filled
    first, second = (await service.message_ids(folders["INBOX"]))[:2]
    moved = await service.apply(MailAction("move", (first,), folders["Archive"]))
    assert moved.removed == (first,) and moved.folders == {folders["INBOX"], folders["Archive"]}
    assert first in await service.message_ids(folders["Archive"])
    copied = await service.apply(MailAction("copy", (second,), folders["Archive"]))
    assert copied.removed == () and second in await service.message_ids(folders["INBOX"])
    archive = await service.rows(await service.message_ids(folders["Archive"]))
    copy = next(r for r in archive if r.id not in (first, second) and r.subject.endswith(")"))
    original = (await service.rows([second]))[0]
    assert any(r.subject == original.subject and r.uidl is None for r in archive)
    assert await service.open_message(copy.id)
    assert (await folder(service, "Archive")).total_count == 5 + 2


async def test_moves_are_refused_across_accounts_and_into_the_same_folder(store: Store) -> None:
    folders = await fill_store(store, count=2)
    async with store.session() as session:
        other = await queries.ensure_account(session, "other", "pop3", "o@example.org")
        elsewhere = await queries.ensure_folder(session, other, "INBOX", is_local=True)
    service = StoreMailService(store, offline_config())
    pk = (await service.message_ids(folders["INBOX"]))[0]
    with pytest.raises(NotAllowed, match="same account"):
        await service.apply(MailAction("move", (pk,), elsewhere))
    with pytest.raises(NotAllowed, match="already in INBOX"):
        await service.apply(MailAction("move", (pk,), folders["INBOX"]))


async def test_server_folders_change_at_once_and_queue_the_change_for_the_server(
    store: Store,
) -> None:
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "imap", "a@example.org")
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox")
        (pk,) = await queries.insert_messages(
            session, inbox, [NewMessage(Envelope("<1@x>", "s"), uid=5)]
        )
    service = StoreMailService(store, offline_config())
    assert (await service.apply(MailAction("flag", (pk,)))).changed == (pk,)
    assert (await service.rows([pk]))[0].flagged
    queued = await scalar(store, "SELECT kind FROM pending_actions")
    assert queued == "flags"


async def test_sync_reports_its_start_progress_then_the_new_unread_count(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, folders = filled

    async def runner(
        store: Store, name: str, account: AccountConfig, progress: ProgressCallback | None
    ) -> SyncOutcome:
        assert progress is not None
        progress(SyncProgress(name, 1, 2))
        async with store.session() as session:
            await queries.insert_messages(
                session,
                folders["INBOX"],
                [NewMessage(Envelope(f"<n{i}@x>", "new")) for i in range(3)],
            )
        return SyncOutcome(name, True, "3 new")

    events: list[ServiceEvent] = []
    service = StoreMailService(service.store, offline_config(), sync_runner=runner)
    unsubscribe = service.subscribe(events.append)
    finished = await service.sync("home")
    arrived = NewMail("home", 3, "INBOX", "", "new")  # the store held mail: this is news
    assert finished == SyncFinished(SyncOutcome("home", True, "3 new"), 3, arrived)
    assert events == [SyncProgress("home", 0, 0), SyncProgress("home", 1, 2), finished]
    unsubscribe()
    await service.sync("home")
    assert len(events) == 3, "no events after unsubscribing"


async def test_a_failed_sync_is_an_outcome_with_no_new_mail(store: Store) -> None:
    async def runner(
        store: Store, name: str, account: AccountConfig, progress: ProgressCallback | None
    ) -> SyncOutcome:
        return SyncOutcome(name, False, "connection refused")

    service = StoreMailService(store, offline_config(), sync_runner=runner)
    finished = await service.sync("home")
    assert not finished.outcome.ok and finished.new_messages == 0


async def test_outbox_count_counts_what_waits_to_be_sent(
    filled: tuple[StoreMailService, dict[str, int]],
) -> None:
    service, _ = filled
    assert await service.outbox_count() == 0
    async with service.store.session() as session:
        account = await queries.account_id(session, "home")
        await outbox_queries.enqueue(session, account, b"x", "a@x", ["b@x"], "<o@x>")
    assert await service.outbox_count() == 1


async def test_opening_marks_a_message_seen_once(store: Store) -> None:
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "imap", "a@example.org")
        local = await queries.ensure_folder(session, account, "Local", is_local=True)
        remote = await queries.ensure_folder(session, account, "INBOX", role="inbox")
        (mine,) = await queries.insert_messages(
            session, local, [NewMessage(Envelope("<1@x>", "s"))]
        )
        (theirs,) = await queries.insert_messages(
            session, remote, [NewMessage(Envelope("<2@x>", "s"), uid=1)]
        )
    service = StoreMailService(store, offline_config())
    assert (await service.mark_opened(mine)).changed == (mine,)
    assert (await service.mark_opened(mine)).changed == (), "already seen: nothing to do"
    assert (await service.mark_opened(theirs)).changed == (theirs,)
    assert [r.seen for r in await service.rows([mine, theirs])] == [True, True]
    assert await scalar(store, "SELECT count(*) FROM pending_actions") == 1, "only the server's"


async def test_search_of_an_imap_folder_asks_the_server_for_bodies_not_in_the_store(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    raw = (
        b"From: Zoe <zoe@example.org>\r\nSubject: notes\r\nMessage-ID: <zebra@x>\r\n"
        b"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nthe zebra crossing is closed\r\n"
    )
    other = raw.replace(b"zebra crossing", b"bridge").replace(b"<zebra@x>", b"<bridge@x>")
    dovecot.deliver(mail_user, [raw, other])
    loaded = parse_config({"accounts": {"x": imap_table(dovecot, mail_user)}})
    service = StoreMailService(store, loaded)
    assert (await service.sync("x")).outcome.ok
    assert await scalar(store, "SELECT count(*) FROM fts_pending") == 0, "indexed after the sync"
    indexed = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'notes AND zoe'"
    assert await scalar(store, indexed) == 2
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        assert not await session.scalar(text("SELECT count(*) FROM message_bodies"))
    found = await service.search(parse_query("body:zebra"), inbox.id)
    rows = await service.rows(found)
    assert [r.message_id for r in rows] == ["<zebra@x>"], "only the server knows the body"
    assert await service.search(parse_query("body:zebra"), None) == [], "all folders: the store"
    offline = parse_config({"accounts": {"x": imap_table(dovecot, mail_user, port=free_port())}})
    assert await StoreMailService(store, offline).search(parse_query("body:zebra"), inbox.id) == []
