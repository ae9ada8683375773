"""The second phase of ``offline = "full"``: index for search the bodies the download stored.

The download only stores bytes; reading each message for its words (``mail.search_text``) runs
here afterwards, a few megabytes per transaction, the reading in a worker thread so the event
loop (the interface, a sync beside it) keeps its turn between batches.
"""

from __future__ import annotations

import asyncio

from tuimail.mail.search_text import SearchText, search_text
from tuimail.store import body_index_queries
from tuimail.store.db import Store

BATCH_BYTES = 4_000_000


def _read_all(batch: list[tuple[int, bytes]]) -> list[tuple[int, SearchText]]:
    return [(pk, search_text(raw)) for pk, raw in batch]


async def index_downloaded_bodies(store: Store) -> int:
    """Index every stored body still waiting for the search index; how many it indexed."""
    done = 0
    while True:
        async with store.session() as session:
            batch = await body_index_queries.waiting_bodies(session, BATCH_BYTES)
        if not batch:
            return done
        texts = await asyncio.to_thread(_read_all, batch)
        async with store.session() as session:
            await body_index_queries.index_bodies(session, texts)
        done += len(batch)
