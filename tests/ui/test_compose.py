"""Writing mail in the interface: compose, reply, forward, drafts, the external editor, sending."""

from __future__ import annotations

import asyncio
import email
import stat
import sys
from email import policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from textual import events

from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import smtp_table
from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import notifications, screen_text, settle
from tuimail.config import parse_config
from tuimail.store.db import open_store
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.screens.compose import ComposeScreen, human_size
from tuimail.ui.screens.draft_picker import DraftPicker


def make_app(store: Path, **account: Any) -> TuimailApp:
    table: dict[str, Any] = {
        "email": "ann@example.org",
        "pop3": {"host": "localhost", "port": 9, "security": "none"},
        "send_delay": 0,  # sent at once unless a test is about undo send
    }
    table.update(account)
    config = parse_config({"accounts": {"home": table}})
    return TuimailApp(config, store_path=store, clock=fixed_clock, start_sync=False)


async def scalar(store_path: Path, sql: str) -> Any:
    store = await open_store(store_path, readonly=True)
    try:
        async with store.session() as session:
            return (await session.execute(text(sql))).scalar()
    finally:
        await store.close()


def showing(app: TuimailApp) -> object:
    """The screen on top (typed loosely: the tests watch it change)."""
    return app.screen


def saved_id(screen: ComposeScreen) -> int | None:
    return screen.draft_id


async def open_with(pilot: Any, key: str) -> None:
    """Wait for the index, press ``key`` (m, r, f) and wait for the compose screen."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


def compose_screen(app: TuimailApp) -> ComposeScreen:
    assert isinstance(app.screen, ComposeScreen)
    return app.screen


async def test_m_opens_an_empty_message_that_postpones_to_drafts(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        screen = compose_screen(app)
        assert screen.draft.from_identity.email == "ann@example.org"
        await pilot.press(*"bob@example.com")
        await pilot.press("tab", "tab", "tab", *"Lunch", "tab", *"Noon?")
        assert screen.draft.to == ("bob@example.com",)
        assert screen.draft.subject == "Lunch"
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen)
        assert "Postponed to Drafts" in notifications(app)
    drafts = await scalar(
        generated_store,
        "SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id "
        "WHERE f.role = 'drafts' AND m.subject = 'Lunch'",
    )
    assert drafts == 1


async def test_autosave_keeps_a_changed_draft_in_the_store(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        screen = compose_screen(app)
        screen.autosave()  # nothing changed: nothing saved
        await settle(pilot)
        assert saved_id(screen) is None
        await pilot.press(*"carol@example.com")
        screen.autosave()  # what the timer calls every few seconds
        await settle(pilot)
        assert saved_id(screen) is not None
        saved = await scalar(generated_store, "SELECT raw FROM drafts")
        assert b"carol@example.com" in saved


def hold_saves_after_commit(
    screen: ComposeScreen, monkeypatch: pytest.MonkeyPatch
) -> asyncio.Event:
    """Make autosave commit and then wait on the returned event before it reports back."""
    gate = asyncio.Event()
    real = screen.composer.autosave

    async def held(*args: Any) -> int:
        draft_id = await real(*args)
        await gate.wait()
        return draft_id

    monkeypatch.setattr(screen.composer, "autosave", held)
    return gate


@pytest.mark.timeout(60)
async def test_sending_while_an_autosave_is_in_flight_leaves_no_draft(
    generated_store: Path, smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(generated_store, smtp=smtp_table(smtp_server))
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        screen = compose_screen(app)
        gate = hold_saves_after_commit(screen, monkeypatch)
        await pilot.press(*"erin@example.com")
        screen.autosave()  # the timer: the draft is committed, the answer is on its way
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen.autosave()  # the timer again, after send was asked for
        gate.set()
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen), notifications(app)
        await smtp_server.wait_for(1)
    assert await scalar(generated_store, "SELECT count(*) FROM drafts") == 0
    assert len(smtp_server.messages) == 1


async def test_discarding_while_an_autosave_is_in_flight_leaves_no_draft(
    generated_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        screen = compose_screen(app)
        gate = hold_saves_after_commit(screen, monkeypatch)
        await pilot.press(*"erin@example.com")
        screen.autosave()
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("y")
        gate.set()
        await settle(pilot)
        assert not isinstance(app.screen, (ComposeScreen, ChoiceScreen))
    assert await scalar(generated_store, "SELECT count(*) FROM drafts") == 0


async def test_leaving_with_changes_asks_and_discard_forgets_the_draft(
    generated_store: Path,
) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        screen = compose_screen(app)
        await pilot.press(*"dave@example.com")
        screen.autosave()
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")  # keep writing
        assert showing(app) is screen
        await pilot.press("escape", "d")
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen)
    assert await scalar(generated_store, "SELECT count(*) FROM drafts") == 0


async def test_leaving_an_untouched_message_asks_nothing(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, (ComposeScreen, ChoiceScreen))


async def test_discard_asks_first(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        await pilot.press(*"x@example.com", "ctrl+n")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("n")
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("ctrl+n", "y")
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen)


async def test_reply_is_prefilled_from_the_message_under_the_cursor(
    generated_store: Path,
) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "r")
        screen = compose_screen(app)
        draft = screen.draft
        assert draft.subject.startswith("Re: ")
        assert draft.to and draft.in_reply_to
        assert "> " in draft.body
        assert screen.origin is not None and screen.origin.action == "answered"


async def test_forward_is_inline_without_recipients(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "f")
        draft = compose_screen(app).draft
        assert draft.subject.startswith("Fwd: ")
        assert draft.to == ()
        assert "Forwarded message" in draft.body


async def test_attach_by_path_shows_the_size_and_drop_removes_it(
    generated_store: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"x" * 2048)
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        screen = compose_screen(app)
        await pilot.press("ctrl+f", *str(notes), "enter")
        assert screen.draft.attachments == (notes,)
        assert human_size(2048) == "2 KB"
        await pilot.press("ctrl+f", *str(tmp_path / "missing"), "enter")
        assert screen.draft.attachments == (notes,)
        await pilot.press("ctrl+r")
        assert not screen.draft.attachments


async def test_external_editor_edits_headers_and_body(
    generated_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "t = p.read_text().replace('Subject: ', 'Subject: Edited ')\n"
        "t = t.replace('To: ', 'To: Eve <eve@example.net>, ')\n"
        "p.write_text(t + 'written in the editor\\n')\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        screen = compose_screen(app)
        await pilot.press(*"bob@example.com", "tab", "tab", "tab", *"Plans")
        await pilot.press("ctrl+g")
        draft = screen.draft
        assert draft.subject == "Edited Plans"
        assert draft.to == ("Eve <eve@example.net>", "bob@example.com")
        assert draft.body.endswith("written in the editor\n")


@pytest.mark.timeout(60)
async def test_reply_sent_through_the_outbox_reaches_the_server(
    generated_store: Path, smtp_server: SmtpTestServer
) -> None:
    app = make_app(generated_store, smtp=smtp_table(smtp_server))
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "r")
        reply = compose_screen(app).draft
        await pilot.press("ctrl+s")
        await settle(pilot)
        await smtp_server.wait_for(1)
        assert not isinstance(app.screen, ComposeScreen)
        assert "Sent" in notifications(app)
    sent = email.message_from_bytes(smtp_server.messages[0].raw, policy=policy.default)
    assert sent["Subject"] == reply.subject
    assert sent["In-Reply-To"] == reply.in_reply_to
    assert await scalar(generated_store, "SELECT count(*) FROM messages WHERE answered") == 1


async def test_send_without_recipients_keeps_the_screen_and_says_why(
    generated_store: Path,
) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert any("no recipients" in n for n in notifications(app))


async def test_tabs_typed_ahead_right_after_m_land_where_they_lead(generated_store: Path) -> None:
    """m, Tab, Tab as fast as a terminal delivers them: the focus is on Bcc, not back on To."""
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        driver = app._driver
        assert driver is not None
        for key, character in (("m", "m"), ("tab", None), ("tab", None)):
            event = events.Key(key, character)
            event.set_sender(app)
            driver.send_message(event)
        await settle(pilot)
        screen = compose_screen(app)
        assert app.focused is screen.query_one("#compose-bcc")


async def test_forward_as_attachment_attaches_the_whole_message(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "ctrl+f")
        draft = compose_screen(app).draft
        assert draft.subject.startswith("Fwd: ")
        [attached] = draft.attachments
        assert isinstance(attached, tuple) and attached[2] == "message/rfc822"
        assert b"Subject:" in attached[1]
        assert compose_screen(app).origin is not None


async def test_a_postponed_draft_reopens_from_the_drafts_list_and_stays_one_draft(
    generated_store: Path,
) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        await pilot.press(*"bob@example.com", "tab", "tab", "tab", *"Lunch plans")
        await pilot.press("ctrl+o")
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, DraftPicker)
        assert "bob@example.com: Lunch plans" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        screen = compose_screen(app)
        assert screen.draft.to == ("bob@example.com",)
        assert screen.draft.subject == "Lunch plans"
        await pilot.press("shift+tab", "end", *" at noon", "ctrl+o")  # body -> Subject
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen)
    assert await scalar(generated_store, "SELECT count(*) FROM drafts") == 1
    subjects = await scalar(
        generated_store,
        "SELECT group_concat(m.subject) FROM messages m JOIN folders f ON f.id = m.folder_id "
        "WHERE f.role = 'drafts'",
    )
    assert subjects == "Lunch plans at noon"


async def test_p_without_drafts_says_so(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert "No saved drafts." in notifications(app)
