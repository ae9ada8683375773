"""``tuimail --demo`` end to end, in a pseudo-terminal: it shows mail, takes new mail, cleans up.

The process gets a 120x40 terminal, its own HOME, XDG dirs and TMPDIR under the test's tmp
dir, and ``TUIMAIL_DEMO_INFO`` to learn the demo's ports and temporary directory. The test
reads the screen (escape sequences stripped) until what it waits for shows, polling the pty
with ``select``: no fixed sleeps.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shlex
import signal
import smtplib
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tuimail.demo.servers import IMAP_ADDRESS, PASSWORD

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
ROWS, COLUMNS = 40, 120
# CSI, OSC, and the two-byte escape sequences a terminal application writes.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, modes
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, clipboard
    rb"|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_=>]"  # character sets and the rest
)


# The "editor" the compose screen's Ctrl+G runs: keeps the headers, sets Subject and body.
EDITOR_SCRIPT = """\
import sys
from pathlib import Path

path = Path(sys.argv[1])
head = path.read_text(encoding="utf-8").partition("\\n\\n")[0]
kept = [line for line in head.splitlines() if not line.startswith("Subject:")]
text = "\\n".join([*kept, "Subject: Note to myself"]) + "\\n\\nWritten in the demo\\n"
path.write_text(text, encoding="utf-8")
"""


class Terminal:
    """A child process on a pseudo-terminal, and everything it wrote, escape-free."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = b""
        self.closed = False

    def text(self, since: int = 0) -> str:
        """The screen output from byte ``since`` on, escape sequences removed."""
        return _ESCAPES.sub(b"", self.raw[since:]).decode("utf-8", "replace")

    def read(self, timeout: float) -> None:
        """Read what the child writes for up to ``timeout`` seconds (less if it stops)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed its end of the terminal
            chunk = b""
        if not chunk:
            self.closed = True
        self.raw += chunk

    def wait_for(self, pattern: str, timeout: float, since: int = 0) -> None:
        """Read until ``pattern`` (a regex) shows in the output from byte ``since`` on."""
        deadline = time.monotonic() + timeout
        while re.search(pattern, self.text(since)) is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                tail = self.text()[-3000:]
                pytest.fail(f"{pattern!r} did not show within {timeout} s:\n{tail}")
            self.read(min(left, 1.0))

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self, timeout: float) -> int:
        """Keep draining the terminal (so the child never blocks on it) until the child exits."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if self.closed:
                return self.process.wait(max(0.1, deadline - time.monotonic()))
            self.read(0.2)
        return self.process.wait(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """An environment that points every location of the user somewhere under tmp_path."""
    home = tmp_path / "home"
    temp = tmp_path / "tmp"
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR_SCRIPT)
    for directory in (home, temp):
        directory.mkdir()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TMPDIR": str(temp),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "TUIMAIL_DEMO_INFO": str(tmp_path / "demo-info.json"),
        "VISUAL": f"{shlex.quote(sys.executable)} {shlex.quote(str(editor))}",
    }


@pytest.fixture
def demo(isolated_env: dict[str, str]) -> Iterator[Terminal]:
    terminal = Terminal([sys.executable, "-m", "tuimail", "--demo"], isolated_env)
    try:
        yield terminal
    finally:
        terminal.kill()


def submit_from_outside(info: dict[str, Any], subject: str) -> None:
    """Send a message to the demo address through the demo's SMTP port, as another client."""
    with smtplib.SMTP(info["host"], info["smtp"], timeout=10) as smtp:
        smtp.login(IMAP_ADDRESS, PASSWORD)
        smtp.sendmail(
            IMAP_ADDRESS,
            [IMAP_ADDRESS],
            f"From: Outside <{IMAP_ADDRESS}>\r\nTo: {IMAP_ADDRESS}\r\nSubject: {subject}\r\n"
            f"Message-ID: <outside@demo.test>\r\n\r\nsent by the test\r\n".encode(),
        )


def listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, port)) == 0


def test_demo_shows_the_mailbox_takes_new_mail_and_leaves_nothing_behind(
    demo: Terminal, isolated_env: dict[str, str]
) -> None:
    demo.wait_for(r"tuimail +Welcome to the tuimail", timeout=60)
    info = json.loads(Path(isolated_env["TUIMAIL_DEMO_INFO"]).read_text())
    temp_dir = Path(info["temp_dir"])
    assert temp_dir.is_dir() and temp_dir.parent == Path(isolated_env["TMPDIR"])
    ports = [info["imap"], info["pop3"], info["smtp"]]
    assert all(listening(info["host"], port) for port in ports)

    # Write to yourself from inside: m opens the compose screen with the cursor in To; Ctrl+G
    # hands the message to $VISUAL (a script writing Subject and body), Ctrl+S sends. Typing
    # Tab between fields is not used: keys typed in one burst all reach the field focused
    # before it, and the screen shows no sign of which field has the focus to wait on.
    demo.type("m")
    demo.wait_for("Postpone", timeout=10)  # the compose screen's footer
    mark = len(demo.raw)
    demo.type(IMAP_ADDRESS + "\x07")  # the address, then Ctrl+G
    demo.wait_for("Written in the demo", timeout=20, since=mark)
    demo.type("\x13")  # Ctrl+S: into the outbox, and sent behind the closed screen
    # Another client sends too, through the demo's SMTP port.
    submit_from_outside(info, "Ping from outside")
    # The interface's next sync of the Inbox (poll_interval 10 s in the demo) brings both into
    # the index, each on a row after its sender (the compose screen never shows them so).
    demo.wait_for(r"You \(demo\) +Note to myself", timeout=40)
    demo.wait_for(r"Outside +Ping from outside", timeout=40)

    demo.type("q")
    demo.wait_for("Quit tuimail?", timeout=20)
    demo.type("y")
    assert demo.finish(timeout=30) == 0
    assert not [port for port in ports if listening(info["host"], port)]
    assert not temp_dir.exists()
    assert list(Path(isolated_env["TMPDIR"]).iterdir()) == []
