"""Opening parts through the user's mailcap, as mutt does: copiousoutput in a pager inside the
app, needsterminal in the terminal, test= honoured, the part in a private file that is gone
afterwards, and never the attachment's name in a command."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
from textual.widgets import TextArea

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import settle, wait_for
from tests.ui.test_attachments import launched as launched  # the fixture
from tests.ui.test_attachments import press_o_on_the_attachment_of, with_attachment
from tests.ui.test_html_part import ALTERNATIVE
from tuimail.ui import mailcap_open
from tuimail.ui.mailcap_open import Part
from tuimail.ui.screens.mailcap_output import MailcapOutput
from tuimail.ui.widgets.message_view import MessageView

HOSTILE_NAME = "a b'\\\"; $(touch PWNED) `id`.x-test"
SHOW = """#!/bin/sh
printf 'argc=%s\\n' "$#"
printf 'file=%s\\n' "$1" | tee -a "{record}"
printf 'mode=%s\\n' "$(stat -c %a "$1")"
printf 'content=%s\\n' "$(cat "$1")"
printf 'evil=\\033]0;title\\007\\033[31mred\\n'
"""


@pytest.fixture
def mailcap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A mailcap file of the test's own (MAILCAPS) and the record its viewer keeps."""
    record = tmp_path / "record"
    show = tmp_path / "show.sh"
    show.write_text(SHOW.replace("{record}", str(record)))
    show.chmod(stat.S_IRWXU)
    path = tmp_path / "mailcap"
    monkeypatch.setenv("MAILCAPS", f"{tmp_path / 'missing'}:{path}")
    monkeypatch.chdir(tmp_path)  # where a $(touch PWNED) would land
    return path, record


def output_of(screen: object) -> str:
    assert isinstance(screen, MailcapOutput), "the output shows in the app's pager"
    return screen.query_one(TextArea).text


async def test_a_copiousoutput_entry_shows_its_output_in_a_pager_with_the_file_as_one_argument(
    synced: SyncedMailbox, mailcap: tuple[Path, Path], tmp_path: Path
) -> None:
    path, record = mailcap
    path.write_text(
        "application/x-test; never-run %s; test=false; copiousoutput\n"
        f"application/x-test; {tmp_path / 'show.sh'} %s; copiousoutput\n"
    )
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        raw = with_attachment(HOSTILE_NAME, "application/x-test")
        await press_o_on_the_attachment_of(pilot, raw)
        await wait_for(pilot, lambda: isinstance(app.screen, MailcapOutput), 10)
        text = output_of(app.screen)
        assert "argc=1" in text, "the file is one argument"
        assert "content=hello" in text and "mode=600" in text
        assert "\x1b" not in text and "\x07" not in text and "red" in text, "output is sanitised"
        opened = Path(record.read_text().strip().removeprefix("file="))
        assert opened.name == "part", "the attachment's name never reaches the command"
        assert not opened.exists() and not opened.parent.exists(), "removed afterwards"
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen.query_one(MessageView), MessageView)
    assert not (tmp_path / "PWNED").exists()


async def test_a_needsterminal_entry_runs_in_the_terminal_and_its_file_is_removed(
    synced: SyncedMailbox, mailcap: tuple[Path, Path], tmp_path: Path, launched: list[str]
) -> None:
    path, record = mailcap
    path.write_text(f"application/pdf; {tmp_path / 'show.sh'} '%s'; needsterminal\n")
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await press_o_on_the_attachment_of(pilot, with_attachment("r.pdf", "application/pdf"))
        await wait_for(pilot, record.exists, 10)
        await settle(pilot)
        opened = Path(record.read_text().strip().removeprefix("file="))
        assert opened.name == "part.pdf" and not opened.exists()
        assert not isinstance(app.screen, MailcapOutput)
    assert launched == [], "the mailcap came before the desktop's opener"


async def test_without_a_passing_mailcap_entry_the_desktop_opener_is_used(
    synced: SyncedMailbox, mailcap: tuple[Path, Path], launched: list[str]
) -> None:
    path, _record = mailcap
    path.write_text("application/pdf; never-run %s; test=false\n")
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await press_o_on_the_attachment_of(pilot, with_attachment("r.pdf", "application/pdf"))
        await settle(pilot)
    assert [Path(p).name for p in launched] == ["r.pdf"]


async def test_o_opens_the_html_part_through_a_text_html_mailcap_entry(
    synced: SyncedMailbox, mailcap: tuple[Path, Path]
) -> None:
    path, _record = mailcap
    path.write_text("text/html; sed -e 's/<[^>]*>//g' %s; copiousoutput\n")
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        assert view.message_id is not None
        view.show(view.message_id, ALTERNATIVE)
        await settle(pilot)
        view.body.focus()
        await pilot.press("O")
        await wait_for(pilot, lambda: isinstance(app.screen, MailcapOutput), 10)
        assert "rich words" in output_of(app.screen)


def running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_test_command_that_hangs_is_given_up_at_its_time_limit_children_and_all(
    mailcap: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _record = mailcap
    pid_file = tmp_path / "pid"
    path.write_text(
        f"application/x-test; first %s; test=sleep 60 & echo $! > {pid_file}; wait\n"
        "application/x-test; second %s\n"
    )
    monkeypatch.setattr(mailcap_open, "TEST_SECONDS", 0.5)
    viewer = mailcap_open.find_viewer(Part(b"x", "application/x-test", "a"), tmp_path)
    assert viewer is not None and viewer.entry.command == "second %s"
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while running(child):
        assert time.monotonic() < deadline, "the test's own children are stopped too"
        time.sleep(0.05)
