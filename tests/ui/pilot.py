"""Helpers for pilot tests: wait for the app's work to finish, read what is on screen."""

from __future__ import annotations

import asyncio
import io
import time
import unicodedata
from collections.abc import Callable

from rich.console import Console
from textual import events
from textual.keys import REPLACED_KEYS, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.worker import Worker

from tuimail.ui.app import TuimailApp
from tuimail.ui.widgets.message_index import MessageIndex


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs and the messages they posted are handled.

    A finished worker may post a message whose handler starts another (opening a folder starts
    page reads), so this waits in rounds until a round starts nothing new. The open folder's
    watcher runs for as long as the folder is open and is not waited for.
    """
    app = pilot.app

    def running() -> list[Worker[object]]:
        return [w for w in app.workers if w.is_running and w.group != "watch"]

    for _ in range(20):
        await pilot.pause()
        if not running():
            await pilot.pause()
            if not running():
                return
            continue
        await app.workers.wait_for_complete(running())
    raise AssertionError("the app kept starting work")


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], seconds: float) -> None:
    """Let the app run until ``condition`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await pilot.pause(0.02)


def terminal_console(app: TuimailApp) -> Console:
    """A console like the app's terminal: its size, true colour, recording what it prints."""
    return Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )


def screen_text(app: TuimailApp) -> str:
    """The plain text of every cell of the screen, as the terminal would get it."""
    console = terminal_console(app)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False)


def notifications(app: TuimailApp) -> list[str]:
    """The texts of the notifications currently shown."""
    return [str(n.message) for n in app._notifications]


async def tap(pilot: Pilot[None], *keys: str) -> None:
    """Press keys like ``Pilot.press``, waiting for the app to go idle once per key instead of
    twice and then for the screen: for tests that press hundreds of keys."""
    app = pilot.app
    driver = app._driver
    assert driver is not None
    for key in keys:
        try:  # the character a key name stands for, found the way Textual's pilot finds it
            character: str | None = unicodedata.lookup(
                _get_unicode_name_from_key(REPLACED_KEYS.get(key, key))
            )
        except KeyError:
            character = key if len(key) == 1 else None
        event = events.Key(key, character)
        event.set_sender(app)
        driver.send_message(event)
        await until_idle()


async def until_idle(window: float = 0.005) -> None:
    """Textual's idle test (the process used almost no CPU over a short sleep) with a window a
    quarter of ``wait_for_idle``'s, so a key that does little costs little."""
    while True:
        cpu = time.process_time()
        await asyncio.sleep(window)
        if time.process_time() - cpu < window / 10:
            return


async def open_with_attachment(app: TuimailApp, pilot: Pilot[None]) -> None:
    """Open the first message in the index that has an attachment."""
    await settle(pilot)
    index = app.screen.query_one(MessageIndex)
    for _ in range(index.count):
        row = index.current_row
        if row is not None and row.has_attachments:
            break
        await pilot.press("j")
    await pilot.press("enter")
    await settle(pilot)
