"""When Python's cycle collector may pause the interface: full collections wait for a quiet moment.

A full (generation 2) collection scans every object the app made since start-up; at 160x48 with
a 100k folder open that took 10-70 ms, often more than a frame, and it came every few dozen
cursor steps. Here the objects that live as long as the app are frozen out of the collector's
sight, automatic full collections are switched off, and one runs when no key or mouse event
has come for a while. Young-generation collections (well under a millisecond) stay automatic.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

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
