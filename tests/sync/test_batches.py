"""BatchWriter: every batch handed over is committed, even when the download fails after it."""

from __future__ import annotations

import asyncio

import pytest

from tuimail.sync.batches import BatchWriter


async def test_all_batches_are_committed_in_order() -> None:
    committed: list[list[int]] = []

    async def commit(batch: list[int]) -> None:
        await asyncio.sleep(0)
        committed.append(batch)

    async with BatchWriter(commit) as writer:
        for n in range(5):
            await writer.put([n, n])
        await writer.put([])  # nothing left over: no empty commit
    assert committed == [[n, n] for n in range(5)]


async def test_batches_handed_over_before_a_failure_are_kept() -> None:
    committed: list[list[int]] = []

    async def commit(batch: list[int]) -> None:
        committed.append(batch)

    with pytest.raises(ConnectionError):
        async with BatchWriter(commit) as writer:
            await writer.put([1])
            await writer.put([2])
            raise ConnectionError("the network went away")
    assert committed == [[1], [2]]


async def test_a_failed_commit_stops_the_download() -> None:
    async def commit(batch: list[int]) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        async with BatchWriter(commit) as writer:
            for n in range(10):
                await writer.put([n])


async def test_joined_batches_that_queued_behind_a_slow_commit_go_in_one_whole_and_in_order() -> (
    None
):
    committed: list[list[int]] = []
    release = asyncio.Event()

    async def commit(batch: list[int]) -> None:
        await release.wait()  # the first commit (its fsync) is slow
        committed.append(batch)

    async with BatchWriter(commit, join=True) as writer:
        await writer.put([1, 1])
        await asyncio.sleep(0)  # the first commit starts and waits
        await writer.put([2, 2])
        await writer.put([3])
        release.set()
        await asyncio.sleep(0)
        await writer.put([4])
    assert committed == [[1, 1], [2, 2, 3], [4]]
    assert [n for batch in committed for n in batch] == [1, 1, 2, 2, 3, 4]


async def test_joined_batches_still_keep_what_was_handed_over_before_a_failure() -> None:
    committed: list[list[int]] = []
    release = asyncio.Event()

    async def commit(batch: list[int]) -> None:
        await release.wait()
        committed.append(batch)

    with pytest.raises(ConnectionError):
        async with BatchWriter(commit, join=True) as writer:
            await writer.put([1])
            await asyncio.sleep(0)
            await writer.put([2])
            await writer.put([3])
            release.set()
            raise ConnectionError("the network went away")
    assert [n for batch in committed for n in batch] == [1, 2, 3]
