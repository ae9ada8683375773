"""A tour of the key table: every key pressed in every pane, at 80x24 and 120x35.

Mail downloaded by POP3 from the private Dovecot. Before each key the tour puts the focus back
in the pane (with a message open in the view, and the index cursor on another one), snapshots
every message's folder and flags, presses the key, closes whatever dialog it opened (Esc) and
compares: a key may change only the message the focused pane shows (the open one in the view,
the one under the cursor in the index, none in the folder list), and only if it is bound there.
The keys that act on a message must do so: d deletes, N and F flip their flag.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import settle, tap
from tests.ui.store_state import (
    MessageStates,
    add_local_folders,
    changed,
    folder_ids,
    message_states,
)
from tuimail.ui import keys
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.screens.main import MainScreen, Pane
from tuimail.ui.widgets.folder_tree import FolderTree

SIZES = ((80, 24), (120, 35))
TOUR: tuple[Pane, ...] = ("folders", "index", "view")
# Every key of the table once, in table order.
ALL_KEYS = list(dict.fromkeys(key for entry in keys.ACTIONS for key in entry.keys.split(",")))


def bound_in(pane: Pane) -> dict[str, keys.KeyAction]:
    """The rows a key runs with the focus in ``pane``: the pane's, then the screen's, the app's."""
    found: dict[str, keys.KeyAction] = {}
    for scope in (pane, "main", "app"):
        for entry in keys.in_scope(scope):
            for key in entry.keys.split(","):
                found.setdefault(key, entry)
    return found


def main_screen(app: TuimailApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def close_dialogs(pilot: Pilot[None]) -> list[object]:
    """Esc out of whatever the key opened (a draft with changes: answer d, discard); returns
    the screens closed, the last opened first."""
    app = pilot.app
    closed: list[object] = []
    for _ in range(6):
        await settle_if_busy(pilot)
        if isinstance(app.screen, MainScreen):
            return closed
        closed.append(app.screen)
        over_compose = len(app.screen_stack) > 1 and isinstance(app.screen_stack[-2], ComposeScreen)
        await tap(pilot, "d" if isinstance(app.screen, ChoiceScreen) and over_compose else "escape")
    raise AssertionError(f"could not close {app.screen!r}")


async def settle_if_busy(pilot: Pilot[None]) -> None:
    """Wait for the work a key started, if it started any."""
    if any(w.is_running and w.group != "watch" for w in pilot.app.workers):
        await settle(pilot)


async def enter(pilot: Pilot[None], pane: Pane, inbox: int) -> int | None:
    """Focus ``pane``, the Inbox open; returns the id of the message the pane shows."""
    screen = main_screen(pilot.app)  # type: ignore[arg-type]
    index = screen.index
    if screen.search is not None or screen.folder is None or screen.folder.id != inbox:
        screen.open_folder(inbox)
        await settle(pilot)
    if pane == "view":
        if screen.view.message_id is None:
            screen._show_pane("index")
            index.move_cursor(0)
            await pilot.press("enter")
            await settle(pilot)
        if index.current_id == screen.view.message_id:
            index.move_cursor(2)  # the view must not act on the index cursor
    if pane == "folders":
        tree = screen.query_one(FolderTree)
        if not all(account.is_expanded for account in tree.root.children):
            for account in tree.root.children:
                account.expand()
            await pilot.pause()
        tree.select_folder(inbox)
    if screen._focused_pane() != pane or screen.pane != pane:
        screen._show_pane(pane)
        await pilot.pause()  # the focus moves once the app's queue gets to it
    return {"folders": None, "index": index.current_id, "view": screen.view.message_id}[pane]


def quits(screen: MainScreen, pane: Pane, key: str) -> bool:
    """``q`` where the table says it quits (folders; the index of a wide screen): not pressed."""
    back = keys.BY_ID["back"].keys.split(",")
    return key in back and (pane == "folders" or (pane == "index" and not screen.narrow))


REPLIES = ("reply", "group_reply", "list_reply", "forward", "forward_attached")


def check_reply(entry: keys.KeyAction, shown: int | None, closed: list[object]) -> None:
    """A reply or forward answers the message shown (the view's open one, not the cursor's)."""
    composed = [screen for screen in closed if isinstance(screen, ComposeScreen)]
    if shown is None:
        assert not composed, f"{entry.id} wrote about a message the pane does not show"
        return
    if entry.id == "list_reply" and not composed:
        return  # the message came from no mailing list: a note says so
    assert composed, f"{entry.id} opened no compose screen"
    origin = composed[0].origin
    assert origin is not None and origin.message_id == shown, f"{entry.id}: {origin}"


def check_effect(
    entry: keys.KeyAction, shown: int, before: MessageStates, after: MessageStates
) -> None:
    """The keys that act on a message did what the table says to the message shown."""
    was, now = before[shown], after.get(shown)
    if entry.id == "delete":
        assert now is not None and now[0] != was[0], "d moves the message shown to Trash"
    elif entry.id == "toggle_read":
        assert now is not None and now[1] != was[1], "N flips read / unread"
    elif entry.id == "flag":
        assert now is not None and now[2] != was[2], "F flips the flag"


async def press_and_check(
    pilot: Pilot[None], path: Path, keys_pressed: list[str], shown: int | None, bound: bool
) -> tuple[MessageStates, MessageStates, list[object]]:
    """Press keys, close what they opened, and check that only ``shown`` changed, if bound."""
    before = message_states(path)
    await tap(pilot, *keys_pressed)
    closed = await close_dialogs(pilot)
    after = message_states(path)
    allowed = {shown} if bound and shown is not None else set()
    touched = changed(before, after)
    assert touched <= allowed, f"{keys_pressed} changed {touched}, not {allowed}"
    return before, after, closed


@pytest.mark.timeout(120)
async def test_every_key_in_every_pane_changes_only_the_message_that_pane_shows(
    fresh_synced: SyncedMailbox,
) -> None:
    mailbox = fresh_synced
    await add_local_folders(mailbox.path, "home", ["Archive"])
    inbox = folder_ids(mailbox.path)["INBOX"]
    for size in SIZES:
        app = mailbox.app()
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            for pane in TOUR:
                bound = bound_in(pane)
                # Keys bound nowhere here: pressed together, they must change nothing at all.
                shown = await enter(pilot, pane, inbox)
                footer = {
                    b.binding.id for b in app.screen.active_bindings.values() if b.binding.show
                }
                assert footer == {e.id for e in bound.values() if e.show}, f"footer in {pane}"
                idle = [key for key in ALL_KEYS if key not in bound]
                await press_and_check(pilot, mailbox.path, idle, shown, bound=False)
                for key in ALL_KEYS:
                    entry = bound.get(key)
                    if entry is None:
                        continue
                    shown = await enter(pilot, pane, inbox)
                    if quits(main_screen(app), pane, key):
                        continue
                    before, after, closed = await press_and_check(
                        pilot, mailbox.path, [key], shown, bound=True
                    )
                    if shown is not None:
                        check_effect(entry, shown, before, after)
                    if entry.id in REPLIES:
                        check_reply(entry, shown, closed)
