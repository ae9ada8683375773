"""Being told about new mail: the bell, a desktop notification through the terminal (OSC 777 /
OSC 9) and on_new_mail_command, for mail that comes in while the interface runs; not for the
first sync that fills the store, and never with a stranger's escape sequences."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.harness.accounts import imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.conftest import deliver_generated
from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import settle, wait_for
from tuimail.config import LoadedConfig, parse_config
from tuimail.store.db import open_store
from tuimail.sync.interface import MailAction, NewMail
from tuimail.sync.service import StoreMailService
from tuimail.sync.watch import FolderWatcher
from tuimail.ui import notify
from tuimail.ui.app import TuimailApp
from tuimail.ui.widgets.message_index import MessageIndex

pytestmark = pytest.mark.timeout(90)

OSC777 = re.compile(r"\x1b\]777;notify;([^\x1b\x07]*);([^\x1b\x07]*)\x1b\\")
HOSTILE = "Hi\x1b]0;pwned\x07 \x9b2J $(touch {marker}) \u202etxt.exe"


def hostile_message(marker: Path, number: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Mallory \x1b[31m <mallory@example.org>"
    message["To"] = "you@example.org"
    message["Subject"] = HOSTILE.format(marker=marker) + f" {number}"
    message["Message-ID"] = f"<hostile-{number}@example.org>"
    message.set_content("hello")
    return message.as_bytes()


def ui_config(table: dict[str, Any], **ui: Any) -> LoadedConfig:
    return parse_config({"accounts": {"work": table}, "ui": ui})


class Terminal:
    """What the app writes to its terminal (the driver's writes)."""

    def __init__(self, app: TuimailApp) -> None:
        self.written: list[str] = []
        driver = app._driver
        assert driver is not None
        driver.write = self.written.append  # type: ignore[method-assign,assignment]

    @property
    def text(self) -> str:
        return "".join(self.written)


async def test_mail_arriving_while_the_app_runs_gives_one_notification_and_runs_the_command(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    deliver_generated(dovecot, mail_user, 3, seed=41)
    told = tmp_path / "told"
    marker = tmp_path / "pwned"
    command = (
        'printf "%s\\n" "$TUIMAIL_NEW_COUNT" "$TUIMAIL_ACCOUNT" "$TUIMAIL_FOLDER" '
        f'"$TUIMAIL_NEW_FROM" "$TUIMAIL_NEW_SUBJECT" > {told}.part && mv {told}.part {told}'
    )
    loaded = ui_config(
        imap_table(dovecot, mail_user), bell=True, notify="osc777", on_new_mail_command=command
    )
    watchers: list[FolderWatcher] = []

    def watcher(*args: Any, **kwargs: Any) -> FolderWatcher:
        watchers.append(FolderWatcher(*args, **kwargs))
        return watchers[-1]

    store = await open_store(data_dir / "mail.sqlite3")
    try:
        service = StoreMailService(store, loaded, watcher=watcher)
        app = TuimailApp(loaded, service=service, clock=fixed_clock)
        async with app.run_test(size=(160, 48)) as pilot:
            terminal = Terminal(app)
            index = app.screen.query_one(MessageIndex)
            await wait_for(pilot, lambda: index.count == 3, 20)
            await wait_for(pilot, lambda: bool(watchers) and watchers[-1].idling.is_set(), 20)
            await settle(pilot)
            assert "\x1b]777" not in terminal.text and "\a" not in terminal.text, (
                "the first sync fills the store: no news"
            )
            dovecot.deliver(mail_user, [hostile_message(marker, 1), hostile_message(marker, 2)])
            await wait_for(pilot, told.exists, 20)
            await wait_for(pilot, lambda: index.count == 5, 5)
            await settle(pilot)
    finally:
        await store.close()
    found = OSC777.findall(terminal.text)
    assert len(found) == 1, "two arrivals at once are one notification"
    title, body = found[0]
    assert title == "2 new messages in work/INBOX"
    assert body.startswith("Mallory") and "pwned" in body and "txt.exe" in body
    # Nothing of the stranger's text can end the sequence early or start another.
    sequence = terminal.text[terminal.text.index("\x1b]777") :]
    sequence = sequence[: sequence.index("\x1b\\") + 2]
    assert sequence.count("\x1b") == 2 and "\x07" not in sequence and "\x9b" not in sequence
    assert "\u202e" not in sequence
    assert terminal.text.count("\a") == 1, "the bell rings once"
    count, account, folder, sender, subject = told.read_text().splitlines()
    assert (count, account, folder) == ("2", "work", "INBOX")
    assert sender.startswith("Mallory") and "\x1b" not in sender
    assert "$(touch" in subject and "\x1b" not in subject
    assert not marker.exists(), "the subject was never part of a shell command"


async def test_messages_the_user_moves_are_not_news_but_new_mail_in_that_folder_is(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver_generated(dovecot, mail_user, 2, seed=42)
    dovecot.deliver(mail_user, [hostile_message(data_dir / "x", 0)], folder="Lists")
    loaded = ui_config(imap_table(dovecot, mail_user), notify="osc777")
    store = await open_store(data_dir / "mail.sqlite3")
    try:
        service = StoreMailService(store, loaded)
        app = TuimailApp(loaded, service=service, clock=fixed_clock, start_sync=False)
        async with app.run_test(size=(160, 48)) as pilot:
            terminal = Terminal(app)
            await pilot.press("dollar_sign")
            await settle(pilot)
            index = app.screen.query_one(MessageIndex)
            await wait_for(pilot, lambda: index.count == 2, 10)
            folders = {f.name: f.id for a in await service.accounts() for f in a.folders}
            unread = await service.message_ids(folders["INBOX"])
            await service.apply(MailAction("move", tuple(unread), folders["Lists"]))
            await pilot.press("dollar_sign")  # the move reaches the server, its copies come back
            await settle(pilot)
            lists = await service.rows(await service.message_ids(folders["Lists"]))
            assert len(lists) == 3 and all(row.uid is not None for row in lists)
            assert "\x1b]777" not in terminal.text, "the user's own move is not news"
            deliver_generated(dovecot, mail_user, 1, seed=43)
            await pilot.press("dollar_sign")
            await settle(pilot)
    finally:
        await store.close()
    ((title, _body),) = OSC777.findall(terminal.text)
    assert title == "1 new message in work/INBOX"


def news(sender: str, subject: str) -> NewMail:
    return NewMail("work", 1, "INBOX", sender, subject)


@given(st.text(), st.text())
def test_no_sender_or_subject_can_end_or_add_an_escape_sequence(sender: str, subject: str) -> None:
    out = notify.sequences("both", news(sender, subject))
    assert out.count("\x1b") == 3  # ESC ] 777 ... ESC \ and ESC ] 9 ... BEL
    assert out.count("\x07") == 1 and out.endswith("\x07")
    assert not any(0x80 <= ord(ch) < 0xA0 for ch in out)
    assert len(out) < 2 * (notify.TITLE_LIMIT + notify.BODY_LIMIT) + 40


def test_an_osc9_notification_never_starts_like_a_terminal_command() -> None:
    assert notify.sequences("osc9", news("4;3", "x")).startswith("\x1b]9;tuimail: ")
    assert notify.sequences("none", news("a", "b")) == ""


async def test_a_failing_new_mail_command_is_one_line_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="tuimail.ui.notify"):
        command = "echo first >&2; echo 'no such mailbox' >&2; exit 3"
        await notify.run_command(command, news("a", "b"))
    (record,) = caplog.records
    assert record.getMessage() == "on_new_mail_command exited with 3: no such mailbox"
