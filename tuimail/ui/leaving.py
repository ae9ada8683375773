"""The interface and its terminal: stderr sent elsewhere, and leaving on SIGHUP or SIGTERM.

Textual draws on stderr, so ``tuimail 2>file`` drew into the file and showed nothing; while the
interface runs, stderr is the terminal again and goes back to the file afterwards.

A hangup (the terminal closed, an SSH session dropped) or a SIGTERM makes the app leave as a
quit does, after saving an open message as a draft: the app closes the store (its lock goes),
the demo's ``finally`` removes its directory, and on SIGTERM the terminal is given back. The
caller then sees KeyboardInterrupt and reports the signal (``signals.stopped_message``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

from textual.app import App

from tuimail import signals

log = logging.getLogger(__name__)
# An open message gets this long to reach the store before the app leaves without it.
SAVE_SECONDS = 10.0


@contextlib.contextmanager
def stderr_on_the_terminal() -> Iterator[None]:
    """While in the block, stderr is the terminal if stdout is one and stderr is not."""
    if os.isatty(2) or not os.isatty(1):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(1, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


async def _save_and_exit(app: App[Any]) -> None:
    try:
        async with asyncio.timeout(SAVE_SECONDS):
            for screen in list(app.screen_stack):
                save = getattr(screen, "save_before_exit", None)
                if save is not None:
                    await save()
    except Exception:  # leaving matters more than the draft: the log keeps the reason
        log.exception("the open message was not saved before leaving")
    finally:
        app.exit(return_code=1)


@contextlib.contextmanager
def leave_on_signals(app: App[Any]) -> Iterator[None]:
    """Run the app in the block; SIGHUP or SIGTERM save, quit, then raise KeyboardInterrupt."""

    def leave(_signum: int, _frame: FrameType | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the app is not running (yet or any more)
            raise KeyboardInterrupt from None
        # Not from inside a signal handler: the loop runs it at its next turn.
        loop.call_soon_threadsafe(
            lambda: app.run_worker(_save_and_exit(app), description="leaving", exclusive=False)
        )

    with signals.on_signals(leave):
        yield
    if signals.received() is not None:
        raise KeyboardInterrupt


@contextlib.contextmanager
def interface_session(app: App[Any]) -> Iterator[None]:
    """Everything the app needs around ``app.run()``: the terminal on stderr, the signals."""
    with stderr_on_the_terminal(), leave_on_signals(app):
        yield
