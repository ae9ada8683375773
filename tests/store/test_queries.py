"""Store round trips: what goes in comes out, in the order the index needs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.errors import MessageNotFound
from tuimail.mail.envelope import Address, Envelope
from tuimail.mail.query import parse_query
from tuimail.store import queries, search_queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def message(n: int, **extra: object) -> NewMessage:
    envelope = Envelope(
        message_id=f"<{n}@example.org>",
        subject=f"Grüße Nummer {n}",
        from_=(Address("José Müller", "jose@example.de"),),
        to=(Address("", "ann@example.org"), Address("Bob", "bob@example.net")),
        date=T0 + timedelta(minutes=n),
        in_reply_to=f"<{n - 1}@example.org>" if n else None,
        references=(f"<{n - 1}@example.org>",) if n else (),
        size=100 + n,
        has_attachments=n % 2 == 0,
        preview=f"preview {n}",
    )
    return NewMessage(envelope=envelope, uid=n + 1, **extra)  # type: ignore[arg-type]


async def found(session: AsyncSession, query: str, folder: int | None = None) -> list[int]:
    """Ids the search language finds for ``query``, newest first."""
    return await search_queries.search(session, parse_query(query), folder)


async def seeded(store: Store, count: int = 20) -> int:
    async with store.session() as session:
        account = await queries.ensure_account(session, "work", "imap", "ann@example.org")
        folder = await queries.ensure_folder(session, account, "INBOX", role="inbox", delimiter="/")
        await queries.insert_messages(
            session,
            folder,
            [
                message(n, flags=frozenset({"\\Seen"}) if n % 3 else frozenset())
                for n in range(count)
            ],
        )
        await queries.refresh_counts(session, folder)
    return folder


async def test_every_field_round_trips(store: Store) -> None:
    folder = await seeded(store)
    async with store.session() as session:
        row = await queries.message_by_uid(session, folder, 5)
    assert row.message_id == "<4@example.org>"
    assert row.subject == "Grüße Nummer 4"
    assert (row.from_name, row.from_email) == ("José Müller", "jose@example.de")
    assert row.to_addrs == "ann@example.org, Bob <bob@example.net>"
    assert row.date == T0 + timedelta(minutes=4)
    assert row.references == ("<3@example.org>",) and row.in_reply_to == "<3@example.org>"
    assert row.seen and row.has_attachments and row.size == 104
    assert row.flags == frozenset({"\\Seen"})


async def test_index_order_is_newest_first_and_pages_keep_order(store: Store) -> None:
    folder = await seeded(store)
    async with store.session() as session:
        ids = await queries.folder_message_ids(session, folder)
        page = await queries.messages_by_ids(session, ids[5:10])
    assert [r.uid for r in page] == [15, 14, 13, 12, 11]


async def test_counts_follow_flags(store: Store) -> None:
    folder = await seeded(store, 30)
    async with store.session() as session:
        state = await queries.folder_state(session, folder)
    assert state.total_count == 30 and state.unread_count == 10


async def test_keywords_and_unknown_flags_are_kept(store: Store) -> None:
    folder = await seeded(store, 0)
    async with store.session() as session:
        [pk] = await queries.insert_messages(
            session, folder, [message(1, flags=frozenset({"$Forwarded", "$Label1", "\\Flagged"}))]
        )
        [row] = await queries.messages_by_ids(session, [pk])
    assert row.forwarded and row.flagged and row.keywords == ("$Label1",)


async def test_bodies_are_stored_byte_exact_and_searchable(store: Store) -> None:
    folder = await seeded(store, 3)
    raw = b"Subject: x\r\n\r\n\x00binary\xff body with zebra\r\n"
    async with store.session() as session:
        row = await queries.message_by_uid(session, folder, 2)
        assert await queries.get_body(session, row.id) is None
        await queries.set_body(
            session, row.id, raw, "binary body with zebra", has_attachments=False
        )
    async with store.session() as session:
        assert await queries.get_body(session, row.id) == raw
        assert await found(session, "zebra") == [row.id]
        assert len(await found(session, "Müller", folder)) == 3


async def test_uid_is_unique_per_folder(store: Store) -> None:
    folder = await seeded(store, 2)
    with pytest.raises(Exception, match="UNIQUE"):
        async with store.session() as session:
            await queries.insert_messages(session, folder, [message(0)])
    async with store.session() as session:
        assert len(await queries.folder_message_ids(session, folder)) == 2


async def test_special_folders_come_first(store: Store) -> None:
    async with store.session() as session:
        account = await queries.ensure_account(session, "work", "imap", "a@b")
        for name, role in [
            ("Zeta", None),
            ("Trash", "trash"),
            ("Alpha", None),
            ("INBOX", "inbox"),
            ("Sent", "sent"),
        ]:
            await queries.ensure_folder(session, account, name, role=role)
        names = [f.name for f in await queries.folders(session, account)]
    assert names == ["INBOX", "Sent", "Trash", "Alpha", "Zeta"]


async def test_unknown_folder_and_account_are_clear_errors(store: Store) -> None:
    await seeded(store, 1)
    async with store.session() as session:
        with pytest.raises(MessageNotFound, match="no folder 'Nope'"):
            await queries.folder_by_name(session, "work", "Nope")
        with pytest.raises(MessageNotFound, match="run `tuimail sync`"):
            await queries.folder_by_name(session, "other", "INBOX")


async def test_deleting_a_message_removes_it_from_search(store: Store) -> None:
    folder = await seeded(store, 3)
    from sqlalchemy import text

    async with store.session() as session:
        await session.execute(text("DELETE FROM messages WHERE folder_id = :f"), {"f": folder})
        assert await found(session, "Müller") == []


async def test_local_folders_can_be_created_renamed_and_deleted_when_empty(store: Store) -> None:
    from tuimail.errors import NotAllowed

    inbox = await seeded(store, 4)
    async with store.session() as session:
        account = await queries.account_id(session, "work")
        receipts = await queries.create_local_folder(session, account, "Receipts")
        with pytest.raises(NotAllowed, match="already exists"):
            await queries.create_local_folder(session, account, "Receipts")
        ids = (await queries.folder_message_ids(session, inbox))[:3]
        await queries.move_messages(session, ids, receipts)
        moved = await queries.folder_state(session, receipts)
        assert (moved.total_count, (await queries.folder_state(session, inbox)).total_count) == (
            3,
            1,
        )
        with pytest.raises(NotAllowed, match="still holds 3 messages"):
            await queries.delete_folder(session, receipts)
        await queries.rename_folder(session, receipts, "Bills")
        assert (await queries.folder_state(session, receipts)).name == "Bills"
        with pytest.raises(NotAllowed, match="special folder"):
            await queries.delete_folder(session, inbox)
        await queries.move_messages(session, ids, inbox)
        await queries.delete_folder(session, receipts)
        assert [f.name for f in await queries.folders(session, account)] == ["INBOX"]
        assert len(await queries.folder_message_ids(session, inbox)) == 4


async def test_flags_change_and_unread_counts_follow(store: Store) -> None:
    inbox = await seeded(store, 6)  # messages 0 and 3 are unread
    async with store.session() as session:
        ids = await queries.folder_message_ids(session, inbox)
        await queries.set_flags(session, ids, add=frozenset({"\\Seen", "\\Flagged"}))
        assert (await queries.folder_state(session, inbox)).unread_count == 0
        await queries.set_flags(session, ids[:2], remove=frozenset({"\\Seen"}))
        assert (await queries.folder_state(session, inbox)).unread_count == 2
        rows = await queries.messages_by_ids(session, ids[:2])
        assert all(r.flagged and not r.seen for r in rows)


@pytest.mark.parametrize("extra", [0, 7])
async def test_a_batch_of_several_insert_statements_gets_its_ids_in_order(
    store: Store, extra: int
) -> None:
    count = 3 * queries.ROWS_PER_INSERT + extra  # whole statements, then the rest in one
    async with store.session() as session:
        account = await queries.ensure_account(session, "work", "imap", "ann@example.org")
        folder = await queries.ensure_folder(session, account, "INBOX")
        ids = await queries.insert_messages(session, folder, [message(n) for n in range(count)])
    assert len(ids) == count
    async with store.session() as session:
        for n in (0, queries.ROWS_PER_INSERT, count - 1):
            row = await queries.message_by_uid(session, folder, n + 1)
            assert row.id == ids[n] and row.subject == f"Grüße Nummer {n}"
        assert await found(session, '"Nummer"') == ids[::-1]


async def test_rows_without_a_uid_are_found_per_folder(store: Store) -> None:
    folder = await seeded(store, 5)
    async with store.session() as session:
        other = await queries.ensure_folder(session, 1, "Archive")
        assert not await queries.has_rows_without_uid(session, folder)
        await queries.copy_messages(session, [1, 2], other)  # copies wait for their UIDs
        assert await queries.has_rows_without_uid(session, other)
        assert not await queries.has_rows_without_uid(session, folder)


async def test_a_message_copied_between_local_folders_keeps_its_recipients_and_body(
    store: Store,
) -> None:
    raw = b"To: ann@example.org, Bob <bob@example.net>\r\nSubject: x\r\n\r\nzebra crossing\r\n"
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", "ann@example.org")
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox")
        receipts = await queries.create_local_folder(session, account, "Receipts")
        [original] = await queries.insert_messages(
            session, inbox, [message(1, flags=frozenset({"\\Seen"}), raw=raw, body_text="zebra")]
        )
        [copy] = await queries.copy_messages(session, [original], receipts)
    async with store.session() as session:
        assert sorted(await found(session, "to:bob")) == sorted([original, copy])
        assert await found(session, "to:bob", receipts) == [copy]
        assert sorted(await found(session, "zebra")) == sorted([original, copy])
        [before, after] = await queries.messages_by_ids(session, [original, copy])
        assert await queries.get_body(session, copy) == raw
    assert after.to_addrs == before.to_addrs != ""
    assert (after.folder_id, after.uid, after.seen) == (receipts, None, True)


async def test_refresh_counts_follows_the_seen_flag(store: Store) -> None:
    folder = await seeded(store, 9)  # every third message unread: 0, 3, 6
    async with store.session() as session:
        await queries.set_flags(session, [1], remove=frozenset({"\\Seen"}))
        state = await queries.folder_state(session, folder)
    assert (state.total_count, state.unread_count) == (9, 3)  # message 1 (n=0) was unread
    async with store.session() as session:
        await queries.set_flags(session, [2], remove=frozenset({"\\Seen"}))
        await queries.refresh_counts(session, folder)
        state = await queries.folder_state(session, folder)
    assert (state.total_count, state.unread_count) == (9, 4)


async def test_a_server_folder_list_is_stored_in_one_go_and_refreshed(store: Store) -> None:
    async with store.session() as session:
        account = await queries.ensure_account(session, "work", "imap", "ann@example.org")
        first = await queries.ensure_folders(
            session, account, [("INBOX", "inbox", "/", True), ("Sent", "sent", "/", True)]
        )
        again = await queries.ensure_folders(
            session,
            account,
            [("INBOX", "inbox", "/", True), ("Sent", None, ".", False), ("Lists", None, "/", True)],
        )
        assert {k: again[k] for k in first} == first  # ids are kept
        assert await queries.ensure_folder(session, account, "Lists") == again["Lists"]
        states = {f.name: f for f in await queries.folders(session, account)}
    assert (states["Sent"].role, states["Sent"].delimiter, states["Sent"].subscribed) == (
        None,
        ".",
        False,
    )
    assert states["INBOX"].role == "inbox" and not states["Lists"].is_local


async def test_two_tasks_creating_one_account_at_once_both_get_its_id(store: Store) -> None:
    # A sync and a draft's autosave on a new store both create the account: both have looked
    # before either inserts.
    both_looked = asyncio.Barrier(2)
    original = AsyncSession.scalar

    async def scalar_then_wait(self: AsyncSession, *args: object, **kwargs: object) -> object:
        found = await original(self, *args, **kwargs)  # type: ignore[arg-type]
        if not both_looked.broken and both_looked.n_waiting < 2 and found is None:
            await both_looked.wait()
        return found

    async def create() -> int:
        async with store.session() as session:
            return await queries.ensure_account(session, "new", "imap", "a@example.org")

    AsyncSession.scalar = scalar_then_wait  # type: ignore[method-assign]
    try:
        first, second = await asyncio.wait_for(asyncio.gather(create(), create()), 10)
    finally:
        AsyncSession.scalar = original  # type: ignore[method-assign]
    assert first == second
    async with store.session() as session:
        assert await queries.account_id(session, "new") == first
