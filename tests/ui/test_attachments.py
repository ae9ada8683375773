"""Saving and opening attachments: inside the chosen folder, never overwriting, never a shell."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import notifications, open_with_attachment, settle, wait_for
from tuimail.errors import TuimailError
from tuimail.ui import attachments
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.screens.save_prompt import SavePrompt
from tuimail.ui.widgets.message_view import AttachmentList, MessageView

MESSAGE = (
    b"From: a@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    b"--b\r\nContent-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="../../.bashrc; rm -rf ~"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n"
)


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", ".bashrc", "a/b\\c.txt", "con.txt", "x" * 400]
)
def test_a_saved_file_always_lands_directly_in_the_chosen_folder(tmp_path: Path, name: str) -> None:
    path = attachments.write_inside(tmp_path, name, b"data")
    assert path.parent == tmp_path.resolve()
    assert path.read_bytes() == b"data"
    assert not path.name.startswith(".")


def test_saving_never_overwrites_or_follows_a_planted_link(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"mine")
    victim = tmp_path / "victim"
    (tmp_path / "report (2).pdf").symlink_to(victim)
    path = attachments.write_inside(tmp_path, "report.pdf", b"theirs")
    assert path.name == "report (3).pdf"
    assert (tmp_path / "report.pdf").read_bytes() == b"mine" and not victim.exists()


def test_save_attachment_uses_the_safe_name(tmp_path: Path) -> None:
    path = attachments.save_attachment(MESSAGE, 0, tmp_path)
    assert path.parent == tmp_path.resolve() and path.read_bytes() == b"hello"
    assert "/" not in path.name and ";" not in path.name and not path.name.startswith(".")


def test_a_folder_that_cannot_be_written_is_one_readable_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TuimailError, match="could not save"):
        attachments.write_inside(blocker / "sub", "a.txt", b"x")


def test_opening_passes_an_argument_list_to_the_opener_never_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[Any, dict[str, Any]]] = []

    class FakePopen:
        def __init__(self, args: Any, **kwargs: Any) -> None:
            started.append((args, kwargs))

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    path = attachments.open_attachment(MESSAGE, 0, tmp_path, opener=("true",))
    ((args, kwargs),) = started
    assert args == ["true", str(path)] and not kwargs.get("shell")
    assert path.parent == tmp_path.resolve()


def test_a_missing_opener_is_one_readable_error(tmp_path: Path) -> None:
    with pytest.raises(TuimailError, match="not installed"):
        attachments.open_attachment(MESSAGE, 0, tmp_path, opener=("no-such-opener-here",))


async def test_v_then_s_asks_where_to_save_the_attachment_offering_the_last_directory(
    synced: SyncedMailbox, tmp_path: Path
) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_with_attachment(app, pilot)
        view = app.screen.query_one(MessageView)
        view.downloads = tmp_path / "Downloads"
        await pilot.press("tab", "v")
        assert isinstance(app.focused, AttachmentList)
        await pilot.press("s")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, SavePrompt), "it asks where"
        assert prompt.query_one(Input).value == f"{tmp_path / 'Downloads'}/", "Downloads first"
        await pilot.press("enter")
        await settle(pilot)
        saved = list((tmp_path / "Downloads").iterdir())
        assert [p.name for p in saved] == ["report.pdf"]
        assert any("Saved" in note for note in notifications(app))
        (tmp_path / "elsewhere").mkdir()
        await pilot.press("s")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.value = f"{tmp_path}/else"
        await wait_for(pilot, lambda: field._suggestion == f"{tmp_path}/elsewhere/", 5)
        await pilot.press("right", "enter")  # the path completes as in a shell
        await settle(pilot)
        assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == ["report.pdf"]
        await pilot.press("s")
        await settle(pilot)
        field = app.screen.query_one(Input)
        assert field.value == f"{tmp_path / 'elsewhere'}/", "the last directory used comes first"


def with_attachment(filename: str, content_type: str) -> bytes:
    return (
        b"From: a@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: " + content_type.encode() + b"\r\n"
        b'Content-Disposition: attachment; filename="' + filename.encode() + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n"
    )


LAUNCHER = with_attachment("invoice.desktop", "application/octet-stream")


async def press_o_on_the_attachment_of(pilot: Pilot[None], raw: bytes) -> MessageView:
    """Show ``raw`` in the message view, move to its attachment list and press o (open)."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    view = app.screen.query_one(MessageView)
    assert view.message_id is not None
    view.show(view.message_id, raw)
    await settle(pilot)
    await pilot.press("tab", "v")
    assert isinstance(app.focused, AttachmentList)
    await pilot.press("o")
    await settle(pilot)
    return view


def asking(app: App[None]) -> ChoiceScreen | None:
    """The question on screen, if any."""
    return app.screen if isinstance(app.screen, ChoiceScreen) else None


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the opener was started on, instead of starting it."""
    started: list[str] = []
    monkeypatch.setattr(attachments, "launch", lambda opener, path, otherwise: started.append(path))
    return started


@pytest.mark.parametrize("answer", ["n", "escape"])
async def test_an_attachment_that_can_run_code_is_not_opened_unless_the_user_says_yes(
    synced: SyncedMailbox, launched: list[str], answer: str
) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await press_o_on_the_attachment_of(pilot, LAUNCHER)
        question = asking(app)
        assert question is not None and "invoice.desktop is a .desktop file" in question.question
        await pilot.press(answer)
        await settle(pilot)
        assert asking(app) is None
        assert launched == []
        assert any("not opened" in note for note in notifications(app))


async def test_an_attachment_that_can_run_code_opens_after_the_user_says_yes(
    synced: SyncedMailbox, launched: list[str]
) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await press_o_on_the_attachment_of(pilot, LAUNCHER)
        assert asking(app) is not None and launched == []
        await pilot.press("y")
        await settle(pilot)
        assert [Path(path).name for path in launched] == ["invoice.desktop"]


async def test_a_pdf_attachment_opens_without_a_question(
    synced: SyncedMailbox, launched: list[str]
) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await press_o_on_the_attachment_of(pilot, with_attachment("report.pdf", "application/pdf"))
        assert asking(app) is None
        assert [Path(path).name for path in launched] == ["report.pdf"]
