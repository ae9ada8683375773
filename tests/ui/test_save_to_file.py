"""``S``: save the message, or the tagged ones, to an mbox (appended) or an .eml file."""

from __future__ import annotations

import mailbox
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.mailstore import add_newest, fixed_clock, offline_config
from tests.ui.pilot import notifications, settle
from tuimail.mail.envelope import Address, Envelope
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.save_messages_prompt import SaveMessagesPrompt

QUOTING = (
    b"From: Quinn Quote <quinn@example.net>\r\nTo: ann@example.org\r\n"
    b"Subject: lines that look like separators\r\nDate: Sat, 14 Mar 2026 15:29:00 +0000\r\n"
    b"Message-ID: <quoting@example.net>\r\n\r\n"
    b"Hello,\r\n\r\nFrom here on it gets tricky.\r\n>From there too.\r\n"
)


async def add_quoting(path: Path) -> None:
    """A message whose body has From_-like lines, the newest in the Inbox (under the cursor)."""
    sender = (Address("Quinn Quote", "quinn@example.net"),)
    subject = "lines that look like separators"
    await add_newest(path, Envelope("<quoting@example.net>", subject, sender), QUOTING)


def app_on(store: Path) -> TuimailApp:
    return TuimailApp(offline_config(), store_path=store, clock=fixed_clock, start_sync=False)


async def save_to(pilot: Pilot[None], path: Path | str, *keys: str) -> None:
    """Press ``keys`` (``S`` by default), type the file's path and save."""
    app = pilot.app
    await pilot.press(*(keys or ("S",)))
    await settle(pilot)
    assert isinstance(app.screen, SaveMessagesPrompt)
    app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)


def subjects(path: Path) -> list[str]:
    return [str(message["Subject"]) for message in mailbox.mbox(path)]


async def test_save_appends_to_an_mbox_that_python_reads_back(
    generated_store: Path, tmp_path: Path
) -> None:
    await add_quoting(generated_store)
    target = tmp_path / "saved" / "keep.mbox"
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await save_to(pilot, target)
        assert f"Saved 1 message to {target} (mbox)" in notifications(app)
        await pilot.press("j")
        await save_to(pilot, target)
        await pilot.press("t", "t")
        await save_to(pilot, target, "semicolon", "S")
    saved = subjects(target)
    assert len(saved) == 4, "one, then one more, then two tagged: appended, none split"
    assert saved[0] == "lines that look like separators"
    first = next(iter(mailbox.mbox(target)))
    body = first.get_payload()
    assert isinstance(body, str)
    # mboxrd quoting: a reader that unquotes one '>' gets the lines back as written.
    assert ">From here on it gets tricky.\n>>From there too.\n" in body
    assert oct(target.stat().st_mode & 0o777) == "0o600"


async def test_save_to_an_eml_file_writes_the_one_message(
    generated_store: Path, tmp_path: Path
) -> None:
    await add_quoting(generated_store)
    target = tmp_path / "one.eml"
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await save_to(pilot, target)
        assert target.read_bytes() == QUOTING.replace(b"\r\n", b"\n")
        await pilot.press("S")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, SaveMessagesPrompt)
        prompt.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is prompt, "an existing .eml is not overwritten: the prompt stays"
        assert "exists" in str(prompt.query_one("#save-error").render())
