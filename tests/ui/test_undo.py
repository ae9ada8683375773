"""``u`` in the index undoes the last move or delete, in the store and on the server."""

from __future__ import annotations

from pathlib import Path

from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.conftest import SyncedMailbox, deliver_generated, synced_imap_app
from tests.ui.pilot import screen_text, settle
from tests.ui.test_imap import server_count
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.message_index import MessageIndex


async def _synced_imap_app(data_dir: Path, dovecot: Dovecot, user: MailUser) -> TuimailApp:
    deliver_generated(dovecot, user, 5, seed=31)
    return await synced_imap_app(data_dir, dovecot, user)


async def test_u_after_d_puts_the_message_back_in_the_inbox_on_the_server_once(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await _synced_imap_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        subject = index.current_row.subject if index.current_row else ""
        await pilot.press("d")
        await settle(pilot)
        assert index.count == 4
        assert "1 message to Trash — u to undo" in screen_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert index.count == 5, "the message is back at once"
        await pilot.press("dollar_sign")  # the move to Trash and the move back, in order
        await settle(pilot)
        assert index.count == 5
        screen = app.screen
        assert isinstance(screen, MainScreen) and screen.folder is not None
        ids = await screen.service.message_ids(screen.folder.id)
        subjects = [row.subject for row in await screen.service.rows(ids)]
        assert subjects.count(subject) == 1, "back once, not twice"
    assert server_count(dovecot, mail_user, "INBOX") == 5
    assert server_count(dovecot, mail_user, "Trash") == 0


async def test_u_undoes_a_delete_the_server_already_made(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await _synced_imap_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        await pilot.press("d", "dollar_sign")  # the sync moves it to Trash on the server
        await settle(pilot)
        assert server_count(dovecot, mail_user, "Trash") == 1
        await pilot.press("u", "dollar_sign")
        await settle(pilot)
        assert index.count == 5
    assert server_count(dovecot, mail_user, "INBOX") == 5
    assert server_count(dovecot, mail_user, "Trash") == 0


async def test_u_undoes_a_tagged_delete_of_a_local_folder(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        before = index.count
        await pilot.press("t", "t", "t", "semicolon", "d")
        await settle(pilot)
        assert index.count == before - 3
        await pilot.press("u")
        await settle(pilot)
        assert index.count == before
        assert "3 messages back in INBOX" in screen_text(app)


async def test_delete_for_good_in_trash_asks_first_and_says_it_cannot_be_undone(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await _synced_imap_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        await pilot.press("d", "dollar_sign")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        trash = next(f for a in screen.accounts for f in a.folders if f.role == "trash")
        screen.open_folder(trash.id)
        await settle(pilot)
        assert index.count == 1
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert "cannot be undone" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert index.count == 1, "n keeps it"
        await pilot.press("d", "y")
        await settle(pilot)
        assert index.count == 0
