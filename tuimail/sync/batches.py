"""Committing downloaded batches while the next batch downloads.

The store writes (and fsyncs) in its own thread, so a sync that awaits each commit before it
asks the server for more leaves the network idle half the time. ``BatchWriter`` runs the commits
in a task fed through a queue of two, which keeps memory bounded to a few batches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Generic, TypeVar

Item = TypeVar("Item")


class BatchWriter(Generic[Item]):
    """``async with BatchWriter(commit) as writer: await writer.put(batch)``.

    With ``join=True`` the batches waiting when a commit ends are committed together.

    Leaving the block normally waits for every batch to be committed (and raises a commit's
    error). Leaving it with an error still commits the batches already handed over: what was
    fully downloaded before a dropped connection is kept.
    """

    def __init__(
        self,
        commit: Callable[[list[Item]], Awaitable[None]],
        depth: int = 2,
        *,
        join: bool = False,
    ) -> None:
        self._commit = commit
        self._queue: asyncio.Queue[list[Item] | None] = asyncio.Queue(maxsize=depth)
        self._task: asyncio.Task[None] | None = None
        self._join = join

    async def _run(self) -> None:
        try:
            while (batch := await self._queue.get()) is not None:
                finished = False
                # join=True: batches that queued up while the last commit ran go in one
                # transaction, in order and each whole: a commit (and its fsync) less. That
                # is the tail of a download, whose last batches arrive faster than they commit.
                while self._join and not self._queue.empty():
                    more = self._queue.get_nowait()
                    if more is None:
                        finished = True
                        break
                    batch = batch + more
                await self._commit(batch)
                if finished:
                    return
        except BaseException:
            # Nothing more will be committed. Empty the queue, so that a put() waiting for room
            # (say, a full disk failed the commit) wakes up and raises instead of hanging.
            while not self._queue.empty():
                self._queue.get_nowait()
            raise

    async def __aenter__(self) -> BatchWriter[Item]:
        self._task = asyncio.create_task(self._run())
        return self

    async def put(self, batch: list[Item]) -> None:
        """Hand a batch over; raises at once if an earlier commit failed."""
        assert self._task is not None
        if self._task.done():
            await self._task  # raises the commit's error
        if batch:
            await self._queue.put(batch)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        if exc is None:
            await self._queue.put(None)
            await self._task
        elif isinstance(exc, Exception):
            if not self._task.done():
                await self._queue.put(None)
            with contextlib.suppress(Exception):
                await self._task
        else:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
