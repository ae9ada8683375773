"""The POP3 bookkeeping: which UIDLs are stored, committed together with the messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.store.models import Pop3Uidl
from tuimail.store.queries import insert_messages
from tuimail.store.records import NewMessage


@dataclass(frozen=True, slots=True)
class KnownUidl:
    """A UIDL the store has: when its message was stored, and whether the server deleted it."""

    uidl: str
    stored_at: int
    deleted_on_server: bool


async def known_uidls(session: AsyncSession, account_pk: int) -> dict[str, KnownUidl]:
    """Every UIDL ever stored for an account (kept after local deletes: never fetch twice)."""
    rows = await session.execute(
        select(Pop3Uidl.uidl, Pop3Uidl.stored_at, Pop3Uidl.deleted_on_server).where(
            Pop3Uidl.account_id == account_pk
        )
    )
    return {uidl: KnownUidl(uidl, stored_at, deleted) for uidl, stored_at, deleted in rows}


_REMEMBER_UIDLS = (
    "INSERT INTO pop3_uidls (account_id, uidl, message_pk, stored_at, deleted_on_server) "
    "SELECT ?, uidl, id, ?, 0 FROM messages WHERE id BETWEEN ? AND ? ORDER BY id"
)


async def store_downloaded(
    session: AsyncSession,
    account_pk: int,
    folder_pk: int,
    messages: Sequence[NewMessage],
    stored_at: int,
) -> list[int]:
    """Insert downloaded messages and their UIDLs in the caller's transaction.

    Both land in one commit or neither does: a UIDL is never remembered for a message that is
    not stored, and a stored message always has its UIDL (the unique constraint on
    (account, uidl) makes a second copy impossible).
    """
    ids = await insert_messages(session, folder_pk, messages)
    if ids:
        # insert_messages gives one batch consecutive ids and writes each message's UIDL into
        # its row, so SQLite copies them over itself: no Python work per message here.
        connection = await session.connection()
        await connection.exec_driver_sql(_REMEMBER_UIDLS, (account_pk, stored_at, ids[0], ids[-1]))
    return ids


async def mark_deleted_on_server(
    session: AsyncSession, account_pk: int, uidls: Sequence[str]
) -> None:
    """Record that the server confirmed these deletions (after QUIT)."""
    if uidls:
        await session.execute(
            update(Pop3Uidl)
            .where(Pop3Uidl.account_id == account_pk, Pop3Uidl.uidl.in_(list(uidls)))
            .values(deleted_on_server=True)
        )


async def checkpoint(session: AsyncSession) -> None:
    """Copy the committed pages in the WAL into the database file now (PASSIVE: readers are
    never waited for); closing the store then has little left to copy."""
    connection = await session.connection()
    await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
