"""Small things a mutt or neomutt user notices at once: ``h`` in the index, a folded thread that
hides an unread reply, the subject squeezed by an empty view pane."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from textual.pilot import Pilot

from tests.harness.accounts import account, config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.conftest import SyncedMailbox
from tests.ui.mailstore import NOW, fixed_clock
from tests.ui.pilot import screen_text, settle, wait_for
from tuimail.store.db import open_store
from tuimail.sync.accounts import sync_account
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.message_view import MessageView


def main_screen(app: TuimailApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def index_line(app: TuimailApp, subject: str) -> str:
    """The index's part of the screen line that shows ``subject`` (right of the folder list)."""
    lines = [line for line in screen_text(app).splitlines() if subject in line]
    assert len(lines) == 1, lines
    return lines[0].split("▕", 1)[1]


async def test_h_in_the_index_opens_the_message_with_all_headers(
    synced: SyncedMailbox,
) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = main_screen(app).index
        expected = index.current_id
        await pilot.press("h")
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        assert view.message_id == expected
        assert view.rendered is not None
        names = {name.lower() for name, _ in view.rendered.headers}
        assert "message-id" in names, names
        assert "Message-ID" in screen_text(app)


# -- a folded thread shows what it hides ------------------------------------------------------


def message(n: int, subject: str, parent: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Friend {n} <friend{n}@example.org>"
    message["To"] = "me@example.org"
    message["Subject"] = subject
    message["Date"] = format_datetime(NOW.replace(hour=9 + n))
    message["Message-ID"] = f"<small-{n}@example.org>"
    if parent:  # a reply says which message it answers
        message["In-Reply-To"] = parent
        message["References"] = parent
    message.set_content(f"Message {n}.\n")
    return message


def thread_of_three() -> list[bytes]:
    """A question and two replies."""
    first = message(0, "Picnic plans")
    second = message(1, "Re: Picnic plans", first["Message-ID"])
    last = message(2, "Re: Picnic plans", second["Message-ID"])
    return [m.as_bytes() for m in (first, second, last)]


async def imap_app(
    dovecot: Dovecot, user: MailUser, path: Path, seen: list[bytes], unseen: list[bytes]
) -> TuimailApp:
    """The messages on the server, downloaded by IMAP into a new store; the app on it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    dovecot.deliver(user, seen, seen=True)
    dovecot.deliver(user, unseen)
    table = imap_table(dovecot, user)
    store = await open_store(path)
    try:
        outcome = await sync_account(store, "home", account(table))
    finally:
        await store.close()
    assert outcome.ok, outcome.summary
    return TuimailApp(config(home=table), store_path=path, clock=fixed_clock, start_sync=False)


async def fold_first_thread(pilot: Pilot[None], index: MessageIndex) -> None:
    await pilot.press("g", "z")
    await settle(pilot)
    assert index.count == 1


async def test_a_folded_thread_shows_N_while_a_hidden_reply_is_unread(
    dovecot: Dovecot, mail_user: MailUser, data_dir: Path
) -> None:
    first, second, last = thread_of_three()
    path = data_dir / "mail.sqlite3"
    app = await imap_app(dovecot, mail_user, path, seen=[first, second], unseen=[last])
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        index = main_screen(app).index
        await pilot.press("o")
        await settle(pilot)
        assert index.threaded
        await fold_first_thread(pilot, index)
        assert index_line(app, "(3)").startswith("N"), screen_text(app)

        await pilot.press("z", "G", "enter")  # unfold, read the last reply
        await settle(pilot)
        await wait_for(pilot, lambda: index.current_row is not None and index.current_row.seen, 5)
        await fold_first_thread(pilot, index)
        assert not index_line(app, "(3)").startswith("N"), screen_text(app)


# -- an empty view pane leaves the index its width ---------------------------------------------


LONG = "Minutes of the quarterly planning meeting, with every decision and its owner"


async def test_at_120_columns_with_no_message_open_the_subject_is_not_squeezed(
    dovecot: Dovecot, mail_user: MailUser, data_dir: Path
) -> None:
    long = message(0, LONG).as_bytes()
    app = await imap_app(dovecot, mail_user, data_dir / "mail.sqlite3", seen=[long], unseen=[])
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert LONG[:45] in screen_text(app)

        await pilot.press("tab")  # the empty view, chosen, shows and takes the keys
        await settle(pilot)
        assert "No message open" in screen_text(app)
        assert app.focused is main_screen(app).view.body
        await pilot.press("shift+tab")
        await settle(pilot)
        assert "No message open" not in screen_text(app)

        await pilot.press("enter")  # with a message open, the view takes its share again
        await settle(pilot)
        assert main_screen(app).view.display
        assert "Message 0." in screen_text(app)
