"""SIGHUP and SIGTERM end tuimail the way Ctrl-C does, so nothing is left behind.

By default either signal kills the process where it stands: an open message unsaved, the
demo's temporary directory left in /tmp, the log cut off. Here a command's coroutine is
cancelled instead (asyncio's own Ctrl-C handling), so its ``finally`` blocks close the store
(a running transaction rolls back) and let go of its lock, and the demo's directory goes.
The interface does more (saves the open message, gives the terminal back): ``ui/leaving.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGHUP, signal.SIGTERM)

_received: list[int] = []


def received() -> int | None:
    """The first SIGHUP or SIGTERM this process received, if any."""
    return _received[0] if _received else None


def detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null: after a hangup, writes to the terminal fail."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _interrupt(frame: FrameType | None) -> None:
    """What Ctrl-C does now: asyncio cancels the running command, else KeyboardInterrupt."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


@contextlib.contextmanager
def on_signals(act: Callable[[int, FrameType | None], None] | None = None) -> Iterator[None]:
    """While in the block, SIGHUP and SIGTERM are noted and ``act`` (default: Ctrl-C) runs."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if not _received:
            _received.append(signum)
        if signum == signal.SIGHUP:
            detach_from_terminal()
        if act is None:
            _interrupt(frame)
        else:
            act(signum, frame)

    previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stopped_message() -> tuple[str, int]:
    """The one line and exit status for a command stopped by a signal or by Ctrl-C."""
    signum = received()
    if signum is None:
        return "interrupted", 130
    return f"stopped by {signal.Signals(signum).name}", 128 + signum
