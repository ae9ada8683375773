"""Full garbage collections wait for a moment without input, so they never hitch the cursor."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tuimail import collector
from tuimail.collector import QuietCollector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quiet(clock: Clock) -> Iterator[QuietCollector]:
    before = gc.get_threshold()
    taken = QuietCollector(clock)
    taken.start()
    yield taken
    taken.stop()
    assert gc.get_threshold() == before, "stop gives the collector its settings back"


def test_start_turns_off_automatic_full_collections_only(quiet: QuietCollector) -> None:
    young, middle, full = gc.get_threshold()
    assert full == collector.NEVER
    assert young > 0 and middle > 0, "young collections stay automatic"


def test_starting_again_freezes_more_and_still_restores_the_settings(
    quiet: QuietCollector,
) -> None:
    frozen = gc.get_freeze_count()
    later: list[list[int]] = [[] for _ in range(1000)]  # made after the first start (tracked)
    quiet.start()
    assert gc.get_freeze_count() >= frozen + len(later)
    assert gc.get_threshold()[2] == collector.NEVER  # the fixture checks stop() restores it


def test_a_full_collection_waits_for_quiet_and_for_its_interval(
    quiet: QuietCollector, clock: Clock
) -> None:
    clock.now += collector.FULL_EVERY_SECONDS + 1
    quiet.input_seen()  # the user is scrolling
    clock.now += collector.QUIET_SECONDS / 2
    assert not quiet.tick()
    clock.now += collector.QUIET_SECONDS
    assert quiet.tick(), "quiet for long enough, and the last full collection is old"
    clock.now += collector.QUIET_SECONDS
    assert not quiet.tick(), "not again before the interval has passed"
    clock.now += collector.FULL_EVERY_SECONDS
    assert quiet.tick()
    assert quiet.full_collections == 2


def test_garbage_cycles_are_freed_by_the_quiet_collection(
    quiet: QuietCollector, clock: Clock
) -> None:
    class Node:
        other: object = None

    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    for _ in range(3):
        gc.collect(1)  # ages the cycle into the oldest generation, as a long session would
    del first, second
    gc.collect(1)
    assert gone() is not None, "young collections do not look at the oldest generation"
    clock.now += collector.FULL_EVERY_SECONDS + collector.QUIET_SECONDS + 1
    assert quiet.tick()
    assert gone() is None
