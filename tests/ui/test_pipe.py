"""``|``: from a message to a shell command, its output in a pager inside the app (issue 20)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.conftest import synced_imap_app
from tests.ui.mailstore import fixed_clock, offline_config
from tests.ui.pilot import screen_text, settle, wait_for
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.screens.main_clipboard import plain_text
from tuimail.ui.screens.pipe_output import PipeOutput
from tuimail.ui.screens.pipe_prompt import PipePrompt


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def patch_and_repo(tmp_path: Path) -> tuple[bytes, Path]:
    """A real patch mail made by git format-patch, and a clone that lacks its commit."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git("init", "-q", "-b", "main", cwd=origin)
    git("config", "user.name", "Pat Patcher", cwd=origin)
    git("config", "user.email", "pat@example.net", cwd=origin)
    (origin / "notes.txt").write_text("one\ntwo\n")
    git("add", "notes.txt", cwd=origin)
    git("commit", "-q", "-m", "Start the notes", cwd=origin)
    git("clone", "-q", str(origin), str(tmp_path / "work"), cwd=tmp_path)
    (origin / "notes.txt").write_text("one\ntwo\nthree\n")
    git("commit", "-q", "-am", "Add the third note", cwd=origin)
    patch = git("format-patch", "-1", "--stdout", cwd=origin).encode()
    # format-patch writes an mbox; the mail itself starts after its From_ line.
    mail = patch.split(b"\n", 1)[1].replace(b"\n", b"\r\n")
    work = tmp_path / "work"
    git("config", "user.name", "Ann Reader", cwd=work)
    git("config", "user.email", "ann@example.org", cwd=work)
    return mail, work


async def pipe(pilot: Pilot[None], command: str, *keys: str) -> PipeOutput:
    """Press ``keys`` (``|`` by default), type ``command``, run it and wait for it to end."""
    app = pilot.app
    await pilot.press(*(keys or ("vertical_line",)))
    await settle(pilot)
    assert isinstance(app.screen, PipePrompt)
    app.screen.query_one(Input).value = command
    await pilot.press("enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, PipeOutput)
    await wait_for(pilot, lambda: screen.result is not None, 30)
    await pilot.pause()
    return screen


def status_line(screen: PipeOutput) -> str:
    return str(screen.query_one("#pipe-status").render())


async def test_pipe_to_git_am_applies_the_patch_mail_fetched_from_the_server(
    tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    mail, work = patch_and_repo(tmp_path)
    dovecot.deliver(mail_user, [mail])
    app = await synced_imap_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = await pipe(pilot, f"git -C {work} am -3")
        assert screen.result is not None and screen.result.statuses == (0,), screen.log_lines
        assert "Applying: Add the third note" in screen.log_lines
        assert "exit status 0" in status_line(screen)
    assert git("log", "-1", "--format=%s|%an", cwd=work) == "Add the third note|Pat Patcher\n"
    assert (work / "notes.txt").read_text() == "one\ntwo\nthree\n"


def app_on(store: Path, **ui: object) -> TuimailApp:
    return TuimailApp(offline_config(**ui), store_path=store, clock=fixed_clock, start_sync=False)


async def tag_three(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("t", "t", "t", "semicolon")
    await settle(pilot)


async def test_tagged_messages_go_to_one_run_as_an_mbox_stream(generated_store: Path) -> None:
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await tag_three(pilot)
        screen = await pipe(pilot, "grep -c '^From '")
        assert screen.log_lines[:1] == ["3"], "three From_ lines in one stream"
        assert screen.result is not None and screen.result.statuses == (0,)


async def test_with_pipe_split_each_tagged_message_gets_its_own_run(
    generated_store: Path,
) -> None:
    app = app_on(generated_store, pipe_split=True)
    async with app.run_test(size=(120, 35)) as pilot:
        await tag_three(pilot)
        screen = await pipe(pilot, "grep -c '^Subject:'")
        assert screen.log_lines[:3] == ["1", "1", "1"]
        assert screen.result is not None and screen.result.statuses == (0, 0, 0)
        assert "3 runs" in status_line(screen)


async def test_a_failing_command_shows_its_error_output_and_exit_status(
    generated_store: Path,
) -> None:
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = await pipe(pilot, "echo 'patch does not apply' >&2; exit 3")
        assert screen.log_lines[0] == "patch does not apply"
        assert "exit status 3" in status_line(screen)
        assert "exit status 3" in screen_text(app)
        assert screen.query_one("#pipe-status").has_class("-failed")
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, PipeOutput), "q closes the pager"


async def test_escape_sequences_in_the_output_never_reach_the_terminal(
    generated_store: Path,
) -> None:
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = await pipe(pilot, r"printf '\033[31mred\033[0m \033]0;title\007done\n'")
        assert screen.log_lines[0] == "red done"
        assert "red done" in screen_text(app)
        assert not any("\x1b" in line or "\x07" in line for line in screen.log_lines)


async def raw_of_cursor(app: TuimailApp) -> bytes:
    """The stored bytes of the message under the index's cursor."""
    screen = app.screen
    assert isinstance(screen, MainScreen)
    message_id = screen.index.current_id
    assert message_id is not None
    return await screen.service.open_message(message_id)


async def test_tab_at_the_prompt_pipes_the_decoded_text_instead_of_the_raw_message(
    generated_store: Path,
) -> None:
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        raw = await raw_of_cursor(app)
        screen = await pipe(pilot, "cat")
        assert screen.log_lines[: len(raw.splitlines())] == raw.decode().splitlines()
        await pilot.press("q")
        screen = await pipe(pilot, "cat", "vertical_line", "tab")
        assert "\n".join(screen.log_lines).rstrip("\n") == plain_text(raw).rstrip("\n")


async def test_the_prompt_recalls_earlier_commands_after_a_restart(generated_store: Path) -> None:
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pipe(pilot, "wc -l")
        await pilot.press("q")
        await pipe(pilot, "head -1")
    again = app_on(generated_store)
    async with again.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("vertical_line")
        await settle(pilot)
        field = again.screen.query_one(Input)
        await pilot.press("up")
        assert field.value == "head -1"
        await pilot.press("up")
        assert field.value == "wc -l"
        await pilot.press("down", "down")
        assert field.value == ""


async def test_keys_work_while_a_command_runs_and_closing_the_pager_stops_it(
    generated_store: Path,
) -> None:
    app = app_on(generated_store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("vertical_line")
        await settle(pilot)
        app.screen.query_one(Input).value = "echo $$; exec sleep 300"
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, PipeOutput)
        await wait_for(pilot, lambda: screen.log_lines[:1] not in ([], [""]), 10)
        shell = int(screen.log_lines[0])
        assert "running" in status_line(screen)
        await pilot.press("q")  # answered while the command still runs
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await wait_for(pilot, lambda: not alive(shell), 10)


def alive(pid: int) -> bool:
    """Whether the process still runs (a zombie waiting for its reaper has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
