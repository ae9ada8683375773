"""The virtual folders' reads: every account's Inbox (or unread, or flagged mail) newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tuimail.mail.envelope import Address, Envelope
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage
from tuimail.store.virtual_queries import virtual_ids, virtual_thread_inputs

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def message(minute: int, flags: frozenset[str] = frozenset({"\\Seen"})) -> NewMessage:
    envelope = Envelope(
        message_id=f"<{minute}@example.org>",
        subject=f"at {minute}",
        from_=(Address("", "someone@example.org"),),
        date=T0 + timedelta(minutes=minute),
    )
    return NewMessage(envelope=envelope, uid=minute + 1, flags=flags)


async def two_accounts(store: Store) -> dict[str, list[int]]:
    """Two accounts with an Inbox each, interleaved in time, plus a Trash and an Archive.

    Returns message ids by "account/folder", in the order they were given (oldest first).
    """
    placed: dict[str, list[int]] = {}
    layout = {
        ("home", "INBOX", "inbox"): [message(0), message(2), message(4, frozenset())],
        ("work", "INBOX", "inbox"): [message(1), message(3, frozenset({"\\Flagged"}))],
        ("work", "Archive", None): [message(5, frozenset()), message(6, frozenset({"\\Flagged"}))],
        ("work", "Trash", "trash"): [message(7, frozenset()), message(8, frozenset({"\\Flagged"}))],
    }
    async with store.session() as session:
        for (account, name, role), messages in layout.items():
            account_pk = await queries.ensure_account(session, account, "imap", f"{account}@x")
            folder = await queries.ensure_folder(session, account_pk, name, role=role)
            await queries.insert_messages(session, folder, messages)
            found = await session.execute(
                text("SELECT id FROM messages WHERE folder_id = :f ORDER BY date"), {"f": folder}
            )
            placed[f"{account}/{name}"] = [row[0] for row in found]
    return placed


async def test_all_inboxes_holds_every_accounts_inbox_newest_first(store: Store) -> None:
    placed = await two_accounts(store)
    home, work = placed["home/INBOX"], placed["work/INBOX"]
    async with store.session() as session:
        assert await virtual_ids(session, "inboxes") == [
            home[2],
            work[1],
            home[1],
            work[0],
            home[0],
        ]
        assert await virtual_ids(session, "inboxes", 2) == [home[2], work[1]]


async def test_all_unread_and_all_flagged_leave_out_trash(store: Store) -> None:
    placed = await two_accounts(store)
    async with store.session() as session:
        unread = await virtual_ids(session, "unread")
        flagged = await virtual_ids(session, "flagged")
        threads = await virtual_thread_inputs(session, "flagged")
    archive = placed["work/Archive"]
    assert unread == [archive[1], archive[0], placed["home/INBOX"][2], placed["work/INBOX"][1]]
    assert flagged == [archive[1], placed["work/INBOX"][1]]
    assert {row.key for row in threads} == set(flagged)


async def test_the_head_of_all_inboxes_reads_each_inbox_through_its_date_index(
    store: Store,
) -> None:
    await two_accounts(store)
    async with store.session() as session:
        await virtual_ids(session, "inboxes", 300)  # warm up the statement
        plan = await session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id, date FROM (SELECT id, date FROM messages "
                "WHERE folder_id = 1 AND 1 ORDER BY date DESC, id DESC LIMIT 300)"
            )
        )
        steps = " | ".join(str(row[-1]) for row in plan)
    # Read newest first off the (folder, date, id) index: no sort of a whole folder.
    assert "ix_messages_folder_date" in steps and "TEMP B-TREE" not in steps
