"""Undo send and send later in the interface, against aiosmtpd: the status line counts the
delay down, u brings the message back into the editor as it was, the message goes once after
the delay, and one that came due while tuimail was closed goes at start with a "late" notice."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import smtp_table
from tests.ui.pilot import notifications, screen_text, settle, wait_for
from tests.ui.test_compose import make_app, open_with, scalar
from tuimail.config import parse_config
from tuimail.mail.compose import Identity, finalize, new_message
from tuimail.store.db import open_store
from tuimail.sync.sending import Sending
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.compose import ComposeScreen

pytestmark = pytest.mark.timeout(60)


def delayed_app(store: Path, server: SmtpTestServer, delay: int) -> TuimailApp:
    return make_app(store, smtp=smtp_table(server), send_delay=delay)


async def write_and_send(pilot: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("the plan\n")
    await open_with(pilot, "m")
    await pilot.press(*"erin@example.com", "tab", "tab", "tab", *"Plans", "tab", *"Lunch?")
    await pilot.press("ctrl+f", *str(plan), "enter")
    await pilot.press("ctrl+s")


async def test_u_during_the_delay_brings_the_message_back_and_nothing_is_sent(
    generated_store: Path, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    app = delayed_app(generated_store, smtp_server, 30)
    async with app.run_test(size=(120, 30)) as pilot:
        await write_and_send(pilot, tmp_path)
        await wait_for(pilot, lambda: "u to undo" in screen_text(app), 10)
        assert "Sending in " in screen_text(app)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen), 10)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert screen.query_one("#compose-to", Input).value == "erin@example.com"
        assert screen.draft.subject == "Plans" and screen.draft.body.startswith("Lunch?")
        assert [a[0] if isinstance(a, tuple) else a.name for a in screen.draft.attachments] == [
            "plan.txt"
        ]
        assert "plan.txt" in screen_text(app)
    assert await scalar(generated_store, "SELECT count(*) FROM outbox") == 0
    assert smtp_server.messages == []


async def test_the_message_goes_once_when_the_delay_is_over(
    generated_store: Path, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    app = delayed_app(generated_store, smtp_server, 2)
    async with app.run_test(size=(120, 30)) as pilot:
        await write_and_send(pilot, tmp_path)
        await wait_for(pilot, lambda: "Sending in " in screen_text(app), 10)
        assert smtp_server.messages == []
        await smtp_server.wait_for(1, timeout=15)
        await wait_for(pilot, lambda: "Sent" in " ".join(notifications(app)), 10)
    assert await scalar(generated_store, "SELECT count(*) FROM outbox") == 0
    assert len(smtp_server.messages) == 1


async def test_u_once_the_message_is_being_sent_says_it_can_no_longer_be_undone(
    generated_store: Path, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    hold = smtp_server.hold_next_data()
    app = delayed_app(generated_store, smtp_server, 1)
    async with app.run_test(size=(120, 30)) as pilot:
        await write_and_send(pilot, tmp_path)
        await smtp_server.wait_until(lambda: hold.arrived, timeout=15)  # handed to the server
        await pilot.press("u")
        await wait_for(pilot, lambda: "can no longer be undone" in screen_text(app), 10)
        hold.release(accept=True)
        await smtp_server.wait_for(1)
        await wait_for(pilot, lambda: "Sent" in " ".join(notifications(app)), 10)
        assert not isinstance(app.screen, ComposeScreen)
    assert len(smtp_server.messages) == 1


async def queue_before_start(store_path: Path, server: SmtpTestServer, send_at: int) -> None:
    """A 'Weekly report' in the outbox, due at ``send_at``, queued while the app is closed."""
    table = {
        "email": "ann@example.org",
        "pop3": {"host": "localhost", "port": 9, "security": "none"},
        "smtp": smtp_table(server),
    }
    store = await open_store(store_path)
    try:
        sending = Sending(store, parse_config({"accounts": {"home": table}}))
        me = Identity("ann@example.org")
        msg = new_message(me, ["erin@example.com"], [], [], "Weekly report", "Here.\n")
        raw, sender, recipients = finalize(msg, me)
        await sending.outbox.submit(
            "home", raw, sender, recipients, send_at=send_at, draft_raw=msg.as_bytes()
        )
    finally:
        await store.close()


async def test_a_message_due_while_tuimail_was_closed_goes_at_start_and_is_called_late(
    generated_store: Path, smtp_server: SmtpTestServer
) -> None:
    await queue_before_start(generated_store, smtp_server, int(time.time()) - 3600)

    app = delayed_app(generated_store, smtp_server, 10)
    async with app.run_test(size=(120, 30)) as pilot:
        await smtp_server.wait_for(1, timeout=15)
        await wait_for(pilot, lambda: "late" in " ".join(notifications(app)), 10)
    assert len(smtp_server.messages) == 1
    assert await scalar(generated_store, "SELECT count(*) FROM outbox") == 0


async def test_send_later_says_the_time_in_words_and_queues_the_message_for_then(
    generated_store: Path, smtp_server: SmtpTestServer
) -> None:
    app = delayed_app(generated_store, smtp_server, 10)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with(pilot, "m")
        await pilot.press(*"erin@example.com", "tab", "tab", "tab", *"Later", "tab", *"Hi")
        await pilot.press("ctrl+l")
        await pilot.press(*"someday")
        await wait_for(pilot, lambda: "cannot read 'someday'" in screen_text(app), 5)
        await pilot.press(*["backspace"] * 7, *"+2h")
        await wait_for(pilot, lambda: "Enter to confirm" in screen_text(app), 5)
        assert "Sends " in screen_text(app)
        asked = time.time()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Scheduled for " in screen_text(app), 10)
        assert not isinstance(app.screen, ComposeScreen)
    due = await scalar(generated_store, "SELECT send_at FROM outbox")
    assert asked + 7200 - 5 <= due <= asked + 7200 + 5
    assert smtp_server.messages == []


async def test_the_outbox_list_shows_when_a_message_goes_and_enter_takes_it_back_to_edit(
    generated_store: Path, smtp_server: SmtpTestServer
) -> None:
    await queue_before_start(generated_store, smtp_server, int(time.time()) + 7200)
    app = delayed_app(generated_store, smtp_server, 10)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: "erin@example.com: Weekly report" in screen_text(app), 10)
        assert "Enter takes one back" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen), 10)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert screen.draft.subject == "Weekly report"
    assert await scalar(generated_store, "SELECT count(*) FROM outbox") == 0
    assert smtp_server.messages == []
