"""The second phase of ``offline = "full"``: index for search the bodies the download stored.

The download only stores bytes; reading each message for its words (``mail.search_text``) runs
here afterwards, in a worker thread so the event loop (the interface, a sync beside it) keeps
its turn. Most of the time goes to SQLite's full-text index, which works outside the GIL in the
store's thread: the next batch is read while the last one is written, and the words of a few
hundred messages go in one transaction (the index merges its segments once per transaction:
130 messages a transaction took half as long again as 1,000 for 10k messages, and 1,000
cost 23 MB more memory).
"""

from __future__ import annotations

import asyncio

from tuimail.mail.search_text import SearchText, search_text
from tuimail.store import body_index_queries
from tuimail.store.db import Store

BATCH_BYTES = 4_000_000  # message bytes read at a time
WRITE_MESSAGES = 300  # messages indexed per transaction, about
WRITE_TEXT = 4_000_000  # or about this many characters of text: memory stays bounded

Texts = list[tuple[int, SearchText]]


def _read_all(batch: list[tuple[int, bytes]]) -> Texts:
    return [(pk, search_text(raw)) for pk, raw in batch]


async def _next(store: Store, after: int) -> tuple[int, asyncio.Future[Texts]] | None:
    """The last id of the next waiting batch and its reading, begun in a thread; None at the
    end."""
    async with store.session() as session:
        batch = await body_index_queries.waiting_bodies(session, BATCH_BYTES, after)
    if not batch:
        return None
    return batch[-1][0], asyncio.ensure_future(asyncio.to_thread(_read_all, batch))


async def index_downloaded_bodies(store: Store) -> int:
    """Index every stored body still waiting for the search index; how many it indexed."""
    done = 0
    pending: Texts = []
    reading = await _next(store, 0)
    while reading is not None:
        after, future = reading
        texts = await future
        reading = await _next(store, after)  # read on while this batch is written
        pending += texts
        if (
            reading is None
            or len(pending) >= WRITE_MESSAGES
            or sum(len(found.body) for _pk, found in pending) >= WRITE_TEXT
        ):
            async with store.session() as session:
                await body_index_queries.index_bodies(session, pending)
            done += len(pending)
            pending = []
    return done
