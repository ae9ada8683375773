"""Search indexing after the sync: messages stored from headers alone wait in ``fts_pending``,
and every search (and the end of every sync) indexes them first, each exactly once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.store.test_queries import message, seeded
from tuimail.mail.query import parse_query
from tuimail.store import queries, search_queries
from tuimail.store.db import Store
from tuimail.store.search_queries import index_pending, search


async def counts(store: Store) -> tuple[int, int, int]:
    """(messages, rows in the search index, pending batches)."""
    async with store.session() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM messages_fts), "
                    "(SELECT count(*) FROM fts_pending)"
                )
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def find(store: Store, query: str) -> list[int]:
    async with store.session() as session:
        return await search(session, parse_query(query))


async def test_headers_wait_for_the_index_and_a_search_finds_them(store: Store) -> None:
    await seeded(store, 20)
    assert await counts(store) == (20, 0, 1), "the sync's transaction did not index"
    found = await find(store, "Müller")
    assert len(found) == 20
    assert await counts(store) == (20, 20, 0)
    assert await find(store, "Müller") == found, "indexed once: the same answer again"


async def test_a_body_fetched_before_indexing_stays_searchable(store: Store) -> None:
    folder = await seeded(store, 3)
    async with store.session() as session:
        row = await queries.message_by_uid(session, folder, 2)
        await queries.set_body(
            session, row.id, b"Subject: x\r\n\r\nzebra\r\n", "zebra", has_attachments=False
        )
    assert await counts(store) == (3, 1, 1)
    async with store.session() as session:
        assert await index_pending(session) == 1
    assert await counts(store) == (3, 3, 0), "the message with a body is not indexed twice"
    assert await find(store, "zebra") == [row.id]
    assert await find(store, "body:preview") == [
        pk for pk in await find(store, "Müller") if pk != row.id
    ]


async def test_an_id_that_comes_back_is_indexed_as_the_new_message(store: Store) -> None:
    folder = await seeded(store, 3)
    async with store.session() as session:
        newest = await queries.message_by_uid(session, folder, 3)
        await session.execute(text("DELETE FROM messages WHERE id = :id"), {"id": newest.id})
        replacement = message(7)
        [pk] = await queries.insert_messages(session, folder, [replacement])
    assert pk == newest.id, "SQLite gave the deleted id to the next message"
    assert await counts(store) == (3, 0, 2), "two pending batches hold that id"
    assert await find(store, "Nummer 7") == [pk]
    assert await find(store, "Nummer 2") == [], "the deleted message is not found"
    assert await counts(store) == (3, 3, 0)


async def test_indexing_in_steps_reaches_every_message(store: Store) -> None:
    folder = await seeded(store, 0)
    for n in range(5):
        async with store.session() as session:
            await queries.insert_messages(session, folder, [message(10 * n + k) for k in range(4)])
    taken = []
    while True:
        async with store.session() as session:
            if not (n := await index_pending(session, batches=2)):
                break
            taken.append(n)
    assert taken == [2, 2, 1]
    assert await counts(store) == (20, 20, 0)


async def test_a_search_during_a_sync_commit_waits_for_it_and_answers(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = await seeded(store, 20)
    writing, searching, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def sync_batch() -> None:  # a sync's transaction, held open until the search runs
        async with store.session() as session:
            await queries.insert_messages(session, folder, [message(100 + k) for k in range(5)])
            writing.set()
            await release.wait()

    real_index = search_queries.index_pending

    async def index_pending(session: AsyncSession, batches: int = -1) -> int:
        searching.set()
        return await real_index(session, batches)

    monkeypatch.setattr(search_queries, "index_pending", index_pending)
    batch = asyncio.create_task(sync_batch())
    await writing.wait()
    first = asyncio.create_task(find(store, "Müller"))
    await searching.wait()
    release.set()
    await batch
    # At least what was stored when the search began (the new batch too, if its commit came
    # before the search read what waits), and no "database is locked".
    assert len(await first) in (20, 25)
    assert len(await find(store, "Müller")) == 25, "the next search takes the new batch"
