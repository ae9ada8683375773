"""Copying to the user's clipboard with OSC 52 (y, Y, links) and opening links."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ui.mailstore import add_newest, fixed_clock, offline_config
from tests.ui.pilot import notifications, screen_text, settle
from tuimail.errors import TuimailError
from tuimail.mail.envelope import Address, Envelope
from tuimail.ui import attachments, links
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.link_picker import LinkPicker
from tuimail.ui.screens.main_clipboard import plain_text

LINKED = (
    b"From: Lena Links <lena@links.example>\r\nTo: ann@example.org\r\n"
    b"Subject: three links\r\nDate: Sat, 14 Mar 2026 15:29:00 +0000\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Notes at https://example.org/notes, the form at https://example.org/form?a=1&b=2.\r\n"
    b"Questions: mailto:lena@links.example\r\n"
)
OSC52 = re.compile(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")


async def add_linked(path: Path) -> None:
    """A message with links, the newest in the Inbox (so the index cursor starts on it)."""
    sender = (Address("Lena Links", "lena@links.example"),)
    await add_newest(path, Envelope("<links@links.example>", "three links", sender), LINKED)


def app_on(store: Path) -> TuimailApp:
    return TuimailApp(offline_config(), store_path=store, clock=fixed_clock, start_sync=False)


def clipboard_writes(app: TuimailApp, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """A function returning what the app has sent the terminal as OSC 52 so far, decoded."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    monkeypatch.setattr(driver, "write", written.append)

    def decoded() -> list[str]:
        return [
            base64.b64decode(match).decode() for data in written for match in OSC52.findall(data)
        ]

    return decoded


class Opened:
    """Stands in for subprocess.Popen: records what would have been started."""

    calls: list[tuple[Any, dict[str, Any]]]

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = []
        monkeypatch.setattr(attachments.shutil, "which", lambda name: f"/usr/bin/{name}")
        monkeypatch.setattr(attachments.subprocess, "Popen", self)

    def __call__(self, args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


async def test_y_copies_the_message_text_and_capital_y_the_sender(
    generated_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_linked(generated_store)
    app = app_on(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        copies = clipboard_writes(app, monkeypatch)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("Y")
        await settle(pilot)
        assert copies() == [plain_text(LINKED), "lena@links.example"]
        assert "https://example.org/notes" in copies()[0]
        assert "Copied lena@links.example" in notifications(app)


async def open_links(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("enter", "tab")  # open the message, go to the view
    await settle(pilot)
    await pilot.press("u")
    await settle(pilot)


async def test_u_lists_the_links_and_enter_opens_one_with_an_argument_list(
    generated_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    opened = Opened(monkeypatch)
    await add_linked(generated_store)
    app = app_on(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_links(pilot)
        assert isinstance(app.screen, LinkPicker)
        shown = screen_text(app)
        assert "[1] https://example.org/notes" in shown
        assert "[2] https://example.org/form?a=1&b=2" in shown
        assert "[3] mailto:lena@links.example" in shown
        await pilot.press("2", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, LinkPicker)
        [(args, options)] = opened.calls
        assert args == ["xdg-open", "https://example.org/form?a=1&b=2"]
        assert not options.get("shell")
        assert "Opened link 2" in notifications(app)


async def test_over_ssh_a_link_is_copied_instead_of_opened(
    generated_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    opened = Opened(monkeypatch)
    await add_linked(generated_store)
    app = app_on(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        copies = clipboard_writes(app, monkeypatch)
        await open_links(pilot)
        await pilot.press("3", "enter")
        await settle(pilot)
        assert opened.calls == []
        assert copies() == ["mailto:lena@links.example"]
        await pilot.press("u", "y")  # y copies whatever the session
        await settle(pilot)
        assert copies()[-1] == "https://example.org/notes"


def test_only_http_https_and_mailto_are_ever_handed_to_the_opener(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened = Opened(monkeypatch)
    for url in ("javascript:alert(1)", "file:///etc/passwd", "https://x.example/\x1b]8;;"):
        with pytest.raises(TuimailError):
            links.open_link(url)
    assert opened.calls == []
