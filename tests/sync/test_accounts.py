"""sync/accounts.py: search indexing after a sync pass."""

from __future__ import annotations

import logging

import pytest

from tests.store.test_queries import message, seeded
from tests.store.test_search_index import counts
from tuimail.errors import StoreError
from tuimail.store import queries, search_queries
from tuimail.store.db import Store
from tuimail.sync.accounts import index_for_search


async def test_indexing_after_a_sync_takes_every_waiting_batch(store: Store) -> None:
    folder = await seeded(store, 0)
    for n in range(9):  # more batches than one transaction takes
        async with store.session() as session:
            await queries.insert_messages(session, folder, [message(10 * n + k) for k in range(3)])
    assert await counts(store) == (27, 0, 9)
    await index_for_search(store)
    assert await counts(store) == (27, 27, 0)


async def test_a_store_that_refuses_is_logged_and_the_next_search_catches_up(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await seeded(store, 5)

    async def full(*_args: object, **_kwargs: object) -> int:
        raise StoreError("cannot write the store: the disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(search_queries, "index_pending", full)
        with caplog.at_level(logging.WARNING):
            await index_for_search(store)
    assert "search index not brought up to date: cannot write the store" in caplog.text
    assert await counts(store) == (5, 0, 1), "nothing lost: the batch still waits"
    async with store.session() as session:
        assert await search_queries.index_pending(session) == 1
    assert await counts(store) == (5, 5, 0)
