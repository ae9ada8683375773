"""Hostile strings from messages and servers reach the terminal defused.

Each place a stranger's text appears (folder name, sender, subject, body, attachment name, a
server's error) gets escape sequences, C1 controls, bidi overrides and Textual markup; then the
exact bytes the app would write to the terminal are checked.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime
from email.header import Header

from tests.ui.mailstore import fixed_clock, offline_config
from tests.ui.pilot import notifications, screen_text, settle, terminal_console
from tuimail.config import AccountConfig
from tuimail.mail.envelope import Address, Envelope
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage
from tuimail.sync.interface import ProgressCallback, SyncOutcome
from tuimail.sync.service import StoreMailService
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.folder_picker import FolderPicker
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.message_view import MessageView

HOSTILE = "\x1b]8;;https://evil.example/\x07X\x1b]8;;\x07\x1b[2J\x1b]0;owned\x07\x9b31m\u202e\u2066"
MARKUP = "[@click=app.quit]click[/][bold red]loud[/]"
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# What a terminal may legitimately get from the app: colours and attributes (SGR), cursor
# moves, and OSC 8 hyperlinks to plain http/https/mailto URLs.
ALLOWED = re.compile(
    r"\x1b\[[0-9;]*[mHABCDJK]"
    r"|\x1b\]8;[^;\x07\x1b]*;(?:(?:https?://|mailto:)[!-~]+?)?\x1b\\"
)


def terminal_bytes(app: TuimailApp) -> str:
    """Exactly what the app would write to the terminal for a full repaint."""
    update = app.screen._compositor.render_update(full=True)
    return str(update.render_segments(terminal_console(app)))  # type: ignore[union-attr]


def assert_defused(app: TuimailApp) -> None:
    output = terminal_bytes(app)
    links = re.findall(r"\x1b\]8;[^;\x07\x1b]*;([^\x1b]*)\x1b\\", output)
    for link in filter(None, links):
        assert re.fullmatch(r"(?:https?://|mailto:)[!-~]+", link), "only plain web and mail links"
        assert not link.lower().startswith("javascript")
    rest = ALLOWED.sub("", output)
    assert "\x1b" not in rest and "\x07" not in rest
    assert not re.search("[\x80-\x9f]", rest), "no C1 controls"
    assert not BIDI.search(rest), "no bidi overrides"


def hostile_message() -> bytes:
    attachment = urllib.parse.quote(f"{HOSTILE}gpj.exe".encode())
    subject = Header(f"Hello {HOSTILE} {MARKUP}", "utf-8").encode()
    html = (
        f"<p>Body {HOSTILE} {MARKUP}</p>"
        '<p><a href="https://ok.example/a">fine</a> <a href="javascript:alert(1)">js</a> '
        f'<a href="https://bad.example/{HOSTILE}">bad</a></p>'
    )
    return (
        f"From: {Header(f'Mallory {HOSTILE}', 'utf-8').encode()} <m@evil.example>\r\n"
        f"To: ann@example.org\r\nSubject: {subject}\r\n"
        "Date: Sat, 14 Mar 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Disposition: attachment; filename*=utf-8''{attachment}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n"
    ).encode()


async def hostile_store(store: Store) -> int:
    """A folder and a message whose stored strings were never cleaned (as a buggy sync might)."""
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", "ann@example.org")
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox", is_local=True)
        folder = await queries.ensure_folder(
            session, account, f"Evil {HOSTILE} {MARKUP}", is_local=True
        )
        envelope = Envelope(
            message_id="<hostile@evil.example>",
            subject=f"Hello {HOSTILE} {MARKUP}",
            from_=(Address(f"Mallory {HOSTILE}", "m@evil.example"),),
            date=datetime(2026, 3, 14, 12, 0, tzinfo=UTC),
            has_attachments=True,
        )
        await queries.insert_messages(
            session, folder, [NewMessage(envelope=envelope, raw=hostile_message())]
        )
        for pk in (inbox, folder):
            await queries.refresh_counts(session, pk)
    return folder


async def failing_sync(
    store: Store, name: str, account: AccountConfig, progress: ProgressCallback | None
) -> SyncOutcome:
    return SyncOutcome(name, False, f"server said: {HOSTILE} {MARKUP}")


async def test_hostile_text_everywhere_reaches_the_terminal_defused(store: Store) -> None:
    folder = await hostile_store(store)
    config = offline_config()
    service = StoreMailService(store, config, sync_runner=failing_sync)
    app = TuimailApp(config, service=service, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(FolderTree)
        tree.select_folder(folder)
        tree.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert_defused(app)  # folder tree, status line, index
        shown = screen_text(app)
        assert "Evil" in shown and "Mallory" in shown and "Hello" in shown
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        assert view.rendered is not None and len(view.rendered.attachments) == 1
        assert_defused(app)  # headers, body, links, attachment list
        shown = screen_text(app)
        assert MARKUP in shown, "Textual markup in a message is shown, never run"
        assert "application/octet-stream" in shown, "the attachment is listed"
        await pilot.press("h")
        await settle(pilot)
        assert_defused(app)  # every header
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, FolderPicker)
        assert_defused(app)  # folder names in the picker
        await pilot.press("escape", "dollar_sign")
        await settle(pilot)
        assert any("server said" in note for note in notifications(app))
        assert_defused(app)  # the server's error in a notification
        assert app.is_running, "no markup click ran app.quit"
