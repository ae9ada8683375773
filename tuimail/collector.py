"""Every way tuimail steers Python's cycle collector, in one place.

Two measured needs, no others: the interface keeps full collections for a quiet moment
(``QuietCollector``: a full collection at 160x48 with a 100k folder open took 10-70 ms, more
than a frame), and a sync pass keeps the collector off its heap (``paused_for_sync``: at a
cold sync the collector walked the records waiting for their commit, 55-75 ms per 10k
messages). Nothing else in the program touches ``gc``.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator

QUIET_SECONDS = 2.0  # no input for this long: the user is reading, a pause goes unseen
CHECK_SECONDS = 5.0  # how often the app asks whether it is time
FULL_EVERY_SECONDS = 30.0  # at most this often, so an idle app does not collect in a loop
NEVER = 1_000_000  # generation-1 collections between automatic full ones: in practice never


class QuietCollector:
    """Freeze what exists, stop automatic full collections, and collect fully when idle."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._saved: tuple[int, int, int] | None = None
        self.last_input = clock()
        self.last_full = clock()
        self.full_collections = 0

    def start(self) -> None:
        """Freeze the objects made so far and take over full collections.

        Called again (the store opened behind the first screen), it freezes what came since.
        """
        gc.freeze()
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        """Give the collector back its usual settings (tests run many apps in one process)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
        gc.unfreeze()

    def input_seen(self) -> None:
        """A key or mouse event arrived: the user is busy, not the time to pause."""
        self.last_input = self._clock()

    def tick(self) -> bool:
        """Collect fully if the user has been quiet and it is time; True if it did."""
        now = self._clock()
        if now - self.last_input < QUIET_SECONDS or now - self.last_full < FULL_EVERY_SECONDS:
            return False
        gc.collect()
        self.last_full = now
        self.full_collections += 1
        return True


@contextlib.contextmanager
def paused_for_imports() -> Iterator[None]:
    """No collections while the interface's modules load; what they made joins the oldest
    generation unwalked at the end.

    Module objects live as long as the process, yet the young collections walked them again
    and again while they loaded, and the full one that followed walked them all: 40-60 ms of
    the interface's start to its first paint went to collections (a bare Textual app: 15).
    The same pause as a sync pass's, for the same reason: many new objects, no cycles to free.
    """
    with paused_for_sync():
        yield


_freezers = 0  # account syncs running with the heap frozen (accounts sync side by side)
_collecting = True  # whether automatic collection was on when the first of them began


@contextlib.contextmanager
def paused_for_sync() -> Iterator[None]:
    """Keep the collector off the heap during an account's sync pass.

    A cold sync allocates a few container objects per message and keeps thousands alive
    until their batch is committed, which sets off the collector's full collection; that
    walks every object of the process (SQLAlchemy, Alembic, the UI): 55-75 ms, once per 10k
    messages of a cold sync (bench_imap). ``gc.freeze`` sets the existing heap aside for
    the while, and automatic collections pause: the sync makes no reference cycles worth
    waiting for (records are tuples, strings and dataclasses), yet every young collection
    walked the thousands of records waiting for their commit, about 5 us per message.
    Cyclic garbage made meanwhile waits for a later collection.

    At the end, what survived the pass (the decoding caches) joins the old generation
    directly: enabling collection with the young generation's count run up by 10k messages
    would sweep those survivors at once (4 ms after a 10k sync). Left alone when something
    else has frozen the heap (a long-lived process may freeze it after start-up, for good).
    """
    global _freezers, _collecting
    if _freezers == 0 and gc.get_freeze_count():
        yield
        return
    _freezers += 1
    if _freezers == 1:
        gc.freeze()
        _collecting = gc.isenabled()
        gc.disable()
    try:
        yield
    finally:
        _freezers -= 1
        if _freezers == 0:
            gc.freeze()  # survivors too; this also zeroes the young generation's count
            gc.unfreeze()  # and everything goes back to the oldest generation
            if _collecting:
                gc.enable()
