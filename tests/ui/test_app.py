"""The main flows, driven by keys, on mail downloaded from the private Dovecot by POP3."""

from __future__ import annotations

from sqlalchemy import text
from textual.widgets import Static

from tests.harness.accounts import config, pop3_table
from tests.ui.conftest import SYNCED, SyncedMailbox, deliver_generated
from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import notifications, screen_text, settle
from tuimail.config import parse_config
from tuimail.store.db import open_store
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.folder_picker import FolderPicker
from tuimail.ui.screens.help import HelpScreen
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.message_view import MessageView


async def folder_counts(mailbox: SyncedMailbox) -> dict[str, tuple[int, int]]:
    store = await open_store(mailbox.path, readonly=True)
    try:
        async with store.session() as session:
            rows = await session.execute(
                text(
                    "SELECT f.name, count(m.id), sum(coalesce(m.seen = 0, 0)) FROM folders f "
                    "LEFT JOIN messages m ON m.folder_id = f.id GROUP BY f.id"
                )
            )
            return {name: (total, int(unread or 0)) for name, total, unread in rows}
    finally:
        await store.close()


async def message_flags(mailbox: SyncedMailbox, message_id: int) -> tuple[bool, bool]:
    store = await open_store(mailbox.path, readonly=True)
    try:
        async with store.session() as session:
            row = (
                await session.execute(
                    text("SELECT seen, flagged FROM messages WHERE id = :id"), {"id": message_id}
                )
            ).one()
            return bool(row[0]), bool(row[1])
    finally:
        await store.close()


def pane_of(app: TuimailApp) -> str:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen.pane


async def test_moves_through_the_inbox_and_reads_the_chosen_message(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        assert index.count == SYNCED
        await pilot.press("G")
        assert index.cursor == SYNCED - 1
        await pilot.press("g", "pagedown")
        assert 10 < index.cursor < SYNCED - 1
        await pilot.press("home", "j", "j", "down", "k")
        assert index.cursor == 2
        chosen = index.current_row
        assert chosen is not None
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        assert view.message_id == chosen.id
        assert view.rendered is not None
        assert f"Subject: {chosen.subject}" in screen_text(app)
    assert (await message_flags(synced, chosen.id))[0], "reading marks the message seen"


async def test_delete_moves_to_trash_and_delete_in_trash_removes_for_good(
    synced: SyncedMailbox,
) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert app.screen.query_one(MessageIndex).count == SYNCED - 1
        counts = await folder_counts(synced)
        assert counts["INBOX"][0] == SYNCED - 1 and counts["Trash"][0] == 1
        tree = app.screen.query_one(FolderTree)
        trash = next(f for f in tree.folders("home") if f.role == "trash")
        assert trash.total_count == 1, "folder counts follow at once"
        tree.select_folder(trash.id)
        tree.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(MessageIndex).count == 1
        await pilot.press("d", "y")  # for good: it asks first
        await settle(pilot)
        assert app.screen.query_one(MessageIndex).count == 0
    assert (await folder_counts(synced))["Trash"][0] == 0


async def test_move_and_copy_go_through_the_folder_picker(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, FolderPicker)
        assert "Move 1 message to" in screen_text(app)
        await pilot.press("down", "down", "enter")  # Drafts, Sent, Trash: the second is Sent
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("c", "d", "r", "enter")  # typing filters: Drafts
        await settle(pilot)
        await pilot.press("c", "escape")  # a cancelled pick changes nothing
        await settle(pilot)
    counts = await folder_counts(synced)
    assert counts["INBOX"][0] == SYNCED - 1
    assert counts["Sent"][0] == 1
    assert counts["Drafts"][0] == 1


async def test_flag_and_toggle_read_reach_the_store_and_the_index(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        first = index.current_row
        assert first is not None and not first.seen and not first.flagged
        await pilot.press("F", "N")
        await settle(pilot)
        assert await message_flags(synced, first.id) == (True, True)
        row = index.current_row
        assert row is not None and row.seen and row.flagged
        assert "!" in screen_text(app).splitlines()[0], "the flag column shows it"
        await pilot.press("F", "N")
        await settle(pilot)
    assert await message_flags(synced, first.id) == (False, False)


async def test_threads_put_replies_under_their_parent_and_fold(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        await pilot.press("o")
        await settle(pilot)
        assert index.threaded and index.count == SYNCED
        assert "└─ Re:" in screen_text(app) or "├─ Re:" in screen_text(app)
        await pilot.press("Z")  # fold every thread
        folded = index.count
        assert folded < SYNCED
        assert "▸ (" in screen_text(app)
        await pilot.press("Z", "o")
        await settle(pilot)
        assert index.count == SYNCED
        assert not app.screen.query_one(MessageIndex).threaded


async def test_theme_key_and_layout_key_change_the_look(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.theme == "dark"
        await pilot.press("ctrl+t")
        assert app.theme != "dark" and app.theme in app.our_themes
        await pilot.press("enter")  # the view shows once a message is open
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        index = app.screen.query_one(MessageIndex)
        assert view.region.x > index.region.x
        await pilot.press("w")
        await pilot.pause()
        assert view.region.y > index.region.y and view.region.x == index.region.x


async def test_narrow_terminal_shows_one_pane_enter_goes_in_q_comes_out(
    synced: SyncedMailbox,
) -> None:
    app = synced.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen) and screen.narrow
        view = screen.query_one(MessageView)
        tree = screen.query_one(FolderTree)
        assert not view.display or view.region.width == 0
        await pilot.press("enter")
        await settle(pilot)
        assert screen.pane == "view" and view.region.width == 80
        assert "Subject:" in screen_text(app)
        await pilot.press("q")
        assert pane_of(app) == "index"
        await pilot.press("q")
        assert pane_of(app) == "folders" and tree.region.width == 80
        await pilot.press("j", "enter")  # Inbox is under the account line
        await settle(pilot)
        assert pane_of(app) == "index"
        await pilot.press("tab")
        assert pane_of(app) == "view"


async def test_sync_runs_at_start_and_on_dollar_and_announces_new_mail(
    fresh_synced: SyncedMailbox,
) -> None:
    synced = fresh_synced
    deliver_generated(synced.dovecot, synced.user, 3, seed=12)
    app = synced.app(start_sync=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        assert index.count == SYNCED + 3
        assert any("home: 3 new messages" in note for note in notifications(app))
        deliver_generated(synced.dovecot, synced.user, 2, seed=13)
        await pilot.press("dollar_sign")
        await settle(pilot)
        assert index.count == SYNCED + 5
        assert "home: 2 new messages" in screen_text(app)


async def test_a_failed_sync_is_one_notification_and_marks_the_account_offline(
    synced: SyncedMailbox,
) -> None:
    wrong = config(home=pop3_table(synced.dovecot, synced.user, password="wrong"))
    app = TuimailApp(wrong, store_path=synced.path, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        shown = [note for note in notifications(app) if "clear text" not in note]
        assert len(shown) == 1 and shown[0].startswith("home: ")
        assert "refused the login" in shown[0]
        assert "Traceback" not in screen_text(app)
        assert "offline: home" in screen_text(app)


async def test_help_lists_the_keys_of_the_focused_pane_with_overrides(
    synced: SyncedMailbox,
) -> None:
    remapped = parse_config({"accounts": {"home": synced.table}, "ui": {"keys": {"delete": "x"}}})
    app = TuimailApp(remapped, store_path=synced.path, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        listed = str(app.screen.query_one("#help-text", Static).content)  # scrolled or not
        assert "Message index" in listed and "Mail" in listed
        assert "All headers" not in listed, "keys of the message view do not apply here"
        delete_line = next(line for line in shown.splitlines() if "Delete (to Trash" in line)
        assert " x " in delete_line and "delete" in delete_line
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("x")
        await settle(pilot)
        assert app.screen.query_one(MessageIndex).count == SYNCED - 1


async def test_palette_offers_every_action_that_applies(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Theme", "Delete (to Trash; for good in Trash)", "Order: date / threads"} <= titles
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Mark read / unread"
        )
        await command.callback()
        await settle(pilot)
        row = app.screen.query_one(MessageIndex).current_row
        assert row is not None and row.seen
        assert {"Reply", "Search all folders", "Tag / untag message"} <= titles
