"""Keys act only on what the focused pane shows (issue 17, item 1).

The folder pane shows folders, so no message key works there and its footer offers none; the
view acts on the open message, never on the index cursor it cannot see.
"""

from __future__ import annotations

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import screen_text, settle
from tests.ui.store_state import changed, message_states
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.message_view import MessageView


def footer_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


async def test_d_in_the_folder_pane_of_a_narrow_terminal_deletes_nothing(
    synced: SyncedMailbox,
) -> None:
    before = message_states(synced.path)
    app = synced.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # read a message, then back out to the folders
        await settle(pilot)
        await pilot.press("q", "q")
        screen = app.screen
        assert isinstance(screen, MainScreen) and screen.pane == "folders"
        assert isinstance(app.focused, FolderTree)
        assert "Delete" not in footer_line(screen_text(app)), "the footer offers no delete"
        opened = screen.query_one(MessageView).message_id
        await pilot.press("G", "d")
        await settle(pilot)
        assert screen.query_one(MessageIndex).count == 40
        assert not any("Trash" in line for line in screen_text(app).splitlines()[-3:])
    after = message_states(synced.path)
    assert changed(before, after) <= {opened}, "only reading it marked the open one seen"
    assert all(after[pk][0] == before[pk][0] for pk in before), "no message changed folder"


async def test_message_keys_in_the_folder_pane_of_a_wide_terminal_change_nothing(
    synced: SyncedMailbox,
) -> None:
    before = message_states(synced.path)
    app = synced.app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, FolderTree)
        footer = footer_line(screen_text(app))
        assert "Delete" not in footer and "Open" in footer
        await pilot.press("d", "N", "F", "s", "c", "t", "semicolon")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen), "no dialog opened for a message"
        assert app.screen.query_one(MessageIndex).count == 40
    assert message_states(synced.path) == before


async def test_the_view_with_no_message_open_leaves_the_index_cursor_alone(
    synced: SyncedMailbox,
) -> None:
    before = message_states(synced.path)
    app = synced.app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("tab")  # to the empty view: nothing is open there
        assert app.screen.query_one(MessageView).message_id is None
        await pilot.press("d", "N", "F")
        await settle(pilot)
    assert message_states(synced.path) == before


async def test_delete_in_the_view_takes_the_open_message_not_the_index_cursor(
    synced: SyncedMailbox,
) -> None:
    app = synced.app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        await pilot.press("enter")
        await settle(pilot)
        opened = app.screen.query_one(MessageView).message_id
        await pilot.press("j", "j", "tab")  # the index cursor moves on; then to the view
        assert index.current_id != opened
        cursor = index.current_id
        before = message_states(synced.path)
        await pilot.press("d")
        await settle(pilot)
    after = message_states(synced.path)
    assert opened is not None and cursor is not None
    assert changed(before, after) == {opened}
    assert after[cursor] == before[cursor]


async def test_n_then_f_in_the_narrow_view_both_reach_the_open_message(
    synced: SyncedMailbox,
) -> None:
    app = synced.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        opened = app.screen.query_one(MessageView).message_id
        assert opened is not None
        assert message_states(synced.path)[opened][1:] == (True, False), "read, not flagged"
        await pilot.press("N")  # the index, hidden behind the view, forgets the changed row
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
    assert message_states(synced.path)[opened][1:] == (False, True)
