"""Downloaded bodies stored in batches first, indexed for search afterwards.

``offline = "full"`` writes the bytes of many messages per transaction and nothing else: each
message goes into ``body_pending``. ``index_bodies`` later puts their text into the search index
(replacing the header-and-preview row) and sets the paperclip their bytes give. ``search`` runs
``index_waiting_bodies`` first, so a search never misses the body of a downloaded message.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tuimail.mail.search_text import SearchText, search_text
from tuimail.store.search_queries import index_messages

# A message expunged while its body was on the way is simply not stored.
_STORE_BODY = (
    "INSERT OR REPLACE INTO message_bodies (message_pk, raw) "
    "SELECT id, ? FROM messages WHERE id = ?"
)
_MARK_PENDING = (
    "INSERT OR IGNORE INTO body_pending (message_pk) SELECT id FROM messages WHERE id = ?"
)


_BODY_CACHE_KIB = -8192  # negative: KiB, as PRAGMA cache_size reads it


async def store_bodies(session: AsyncSession, bodies: Sequence[tuple[int, bytes]]) -> None:
    """Store the bytes of messages ``(id, raw)``; their text waits in ``body_pending``."""
    connection = await session.connection()
    async with _small_cache(connection):
        await connection.exec_driver_sql(_STORE_BODY, [(raw, pk) for pk, raw in bodies])
        await connection.exec_driver_sql(_MARK_PENDING, [(pk,) for pk, _raw in bodies])


@contextlib.asynccontextmanager
async def _small_cache(connection: AsyncConnection) -> AsyncIterator[None]:
    """A small page cache meanwhile: body and index pages are written once and not read again
    soon, and in the connection's 32 MB cache they were a fifth of a 10k download's peak memory.
    """
    cache = (await connection.exec_driver_sql("PRAGMA cache_size")).scalar_one()
    await connection.exec_driver_sql(f"PRAGMA cache_size={_BODY_CACHE_KIB}")
    try:
        yield
    finally:
        await connection.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")


async def waiting_bodies(
    session: AsyncSession, max_bytes: int, after: int = 0
) -> list[tuple[int, bytes]]:
    """The next waiting messages ``(id, raw)`` with ids above ``after``, about ``max_bytes`` of
    them (at least one)."""
    connection = await session.connection()
    sizes = await connection.exec_driver_sql(
        "SELECT p.message_pk, length(b.raw) FROM body_pending p "
        "JOIN message_bodies b ON b.message_pk = p.message_pk WHERE p.message_pk > ? "
        "ORDER BY p.message_pk LIMIT 1000",
        (after,),
    )
    chosen: list[int] = []
    total = 0
    measured: list[tuple[int, ...]] = [tuple(row) for row in sizes]
    for row in measured:
        if chosen and total + int(row[1]) > max_bytes:
            break
        chosen.append(int(row[0]))
        total += int(row[1])
    if not chosen:
        # Rows whose body went (the message was deleted, or its body dropped) wait for nothing.
        await connection.exec_driver_sql(
            "DELETE FROM body_pending "
            "WHERE message_pk NOT IN (SELECT message_pk FROM message_bodies)"
        )
        return []
    marks = ",".join("?" * len(chosen))
    rows = await connection.exec_driver_sql(
        f"SELECT message_pk, raw FROM message_bodies WHERE message_pk IN ({marks})", tuple(chosen)
    )
    found: list[tuple[int, bytes]] = [(int(pk), bytes(raw)) for pk, raw in map(tuple, rows)]
    return found


async def index_bodies(session: AsyncSession, texts: Sequence[tuple[int, SearchText]]) -> None:
    """Index the body text of waiting messages and set their paperclip from their bytes."""
    connection = await session.connection()
    await connection.exec_driver_sql(
        "UPDATE messages SET has_attachments = ? WHERE id = ?",
        [(found.has_attachments, pk) for pk, found in texts],
    )
    async with _small_cache(connection):
        # Delete and insert, not UPDATE: the message may still wait in fts_pending, unindexed.
        await connection.exec_driver_sql(
            "DELETE FROM messages_fts WHERE rowid = ?", [(pk,) for pk, _found in texts]
        )
        await index_messages(session, [(pk, found.body) for pk, found in texts])
    await connection.exec_driver_sql(
        "DELETE FROM body_pending WHERE message_pk = ?", [(pk,) for pk, _found in texts]
    )


async def index_waiting_bodies(
    session: AsyncSession,
    read: Callable[[bytes], SearchText] = search_text,
    max_bytes: int = 8_000_000,
) -> int:
    """Index every waiting body in this transaction (``search`` needs them all); how many."""
    done = 0
    while batch := await waiting_bodies(session, max_bytes):
        await index_bodies(session, [(pk, read(raw)) for pk, raw in batch])
        done += len(batch)
    return done
