"""SIGHUP (the terminal went away: a dropped SSH session) and SIGTERM end tuimail like a quit.

An open message is saved as a draft, the store is closed and its lock let go, the demo's
temporary directory and servers go, and the terminal is given back. Each run is a real process
on a pseudo-terminal (see test_demo_pty.py), or with pipes for ``tuimail sync``.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.demo.test_demo_pty import ROOT, Terminal, isolated_env, listening
from tuimail.cli import main

__all__ = ["isolated_env"]  # the fixture, used by name below

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A port that accepts connections and never says a word (a server that hangs)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server


def configure(env: dict[str, str], tmp_path: Path, port: int) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.home]\nemail = "ann@example.org"\n'
        f'[accounts.home.pop3]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'password_command = "echo secret"\n'
    )
    env["TUIMAIL_CONFIG"] = str(config)
    env["TUIMAIL_DATA_DIR"] = str(tmp_path / "data")
    return tmp_path / "data"


def lock_is_free(data: Path) -> bool:
    fd = os.open(data / "mail.sqlite3.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_saves_the_open_message_closes_the_store_and_gives_the_terminal_back(
    isolated_env: dict[str, str], tmp_path: Path, signum: int
) -> None:
    data = configure(isolated_env, tmp_path, closed_port())
    terminal = Terminal([sys.executable, "-m", "tuimail"], isolated_env)
    try:
        # The first sync fails at once (nobody listens): the store is open and idle.
        terminal.wait_for("refused|cannot connect|could not", timeout=60)
        terminal.type("m")
        terminal.wait_for("Postpone", timeout=20)  # the compose screen's footer
        mark = len(terminal.raw)
        terminal.type("bob@example.net")
        terminal.wait_for("bob@example.net", timeout=10, since=mark)
        mark = len(terminal.raw)
        terminal.process.send_signal(signum)
        if signum == signal.SIGHUP:  # the terminal is gone: nothing more is read from it
            os.close(terminal.master)
            terminal.master = os.open(os.devnull, os.O_RDONLY)
            terminal.closed = True
        assert terminal.finish(timeout=30) == 128 + signum
        if signum == signal.SIGTERM:  # the terminal stays: it is back to normal
            assert "\x1b[?1049l" in terminal.raw[mark:].decode("utf-8", "replace")
    finally:
        terminal.kill()
    assert lock_is_free(data)
    assert not (data / "mail.sqlite3-wal").exists()  # closed, not dropped
    drafts = CliRunner().invoke(main, ["drafts"], env=isolated_env)
    assert drafts.exit_code == 0, drafts.output
    assert "home to bob@example.net" in drafts.stdout


def test_the_demo_hung_up_removes_its_directory_and_stops_its_servers(
    isolated_env: dict[str, str],
) -> None:
    terminal = Terminal([sys.executable, "-m", "tuimail", "--demo"], isolated_env)
    try:
        terminal.wait_for(r"tuimail +Welcome to the tuimail", timeout=60)
        info = json.loads(Path(isolated_env["TUIMAIL_DEMO_INFO"]).read_text())
        assert Path(info["temp_dir"]).is_dir()
        terminal.process.send_signal(signal.SIGHUP)
        os.close(terminal.master)
        terminal.master = os.open(os.devnull, os.O_RDONLY)
        assert terminal.process.wait(timeout=30) == 128 + signal.SIGHUP
    finally:
        terminal.kill()
    assert list(Path(isolated_env["TMPDIR"]).iterdir()) == []
    ports = [info["imap"], info["pop3"], info["smtp"]]
    assert not [port for port in ports if listening(info["host"], port)]


def test_sync_stopped_by_sigterm_closes_the_store_and_says_so(
    isolated_env: dict[str, str], tmp_path: Path, silent_server: socket.socket
) -> None:
    data = configure(isolated_env, tmp_path, silent_server.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "tuimail", "sync"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=isolated_env,
        cwd=ROOT,
        text=True,
    )
    try:
        silent_server.settimeout(60)
        connection, _ = silent_server.accept()  # the sync is waiting for the POP3 greeting
        with connection:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM
    assert stderr == "tuimail: stopped by SIGTERM\n"
    assert lock_is_free(data)
    assert not (data / "mail.sqlite3-wal").exists()


def test_the_interface_shows_on_the_terminal_when_stderr_goes_to_a_file(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "stderr.txt"
    shell = f"exec {sys.executable} -m tuimail --demo 2>{log}"
    terminal = Terminal(["/bin/sh", "-c", shell], isolated_env)
    try:
        terminal.wait_for(r"tuimail +Welcome to the tuimail", timeout=60)
        terminal.type("q")
        terminal.wait_for("Quit tuimail?", timeout=20)
        terminal.type("y")
        assert terminal.finish(timeout=30) == 0
    finally:
        terminal.kill()
    assert "\x1b[" not in log.read_text()


def test_sigterm_in_the_setup_form_writes_nothing_and_gives_the_terminal_back(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"  # absent: tuimail opens the setup form first
    isolated_env["TUIMAIL_CONFIG"] = str(config)
    isolated_env["TUIMAIL_DATA_DIR"] = str(tmp_path / "data")
    terminal = Terminal([sys.executable, "-m", "tuimail"], isolated_env)
    try:
        terminal.wait_for("Password", timeout=60)
        terminal.type("ann@example.org")
        mark = len(terminal.raw)
        terminal.process.send_signal(signal.SIGTERM)
        assert terminal.finish(timeout=30) == 128 + signal.SIGTERM
        assert "\x1b[?1049l" in terminal.raw[mark:].decode("utf-8", "replace")
    finally:
        terminal.kill()
    assert not config.exists()
