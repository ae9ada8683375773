"""``NO_COLOR=1 tuimail --demo`` in a pseudo-terminal: no colour at all reaches the terminal.

Textual honours NO_COLOR by turning every colour into a 256-colour grey; a user who sets it
wants none. The cursor must still show, by reverse video.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo.test_demo_pty import Terminal

pytestmark = pytest.mark.timeout(120)

# Select Graphic Rendition sequences, and the colours in them: 38/48 with ;5; (256 colours) or
# ;2; (true colour), and the 16 basic colours 30-37, 40-47, 90-97, 100-107.
_SGR = re.compile(rb"\x1b\[([0-9;]*)m")
_BASIC = {str(n) for n in (*range(30, 38), *range(40, 48), *range(90, 98), *range(100, 108))}


def colours(parameters: bytes) -> list[str]:
    """The colour settings in one SGR sequence's parameters (``1;38;5;243`` -> ``38;5;243``)."""
    found, parts = [], parameters.decode().split(";")
    while parts:
        part = parts.pop(0)
        if part in ("38", "48") and parts:
            width = 2 if parts[0] == "5" else 4 if parts[0] == "2" else 0
            found.append(";".join([part, *parts[:width]]))
            del parts[:width]
        elif part in _BASIC:
            found.append(part)
    return found


@pytest.fixture
def no_color_demo(tmp_path: Path) -> Iterator[Terminal]:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "tmp").mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TMPDIR": str(tmp_path / "tmp"),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
    }
    terminal = Terminal([sys.executable, "-m", "tuimail", "--demo"], env)
    try:
        yield terminal
    finally:
        terminal.kill()


def test_with_NO_COLOR_the_demo_writes_no_colour_and_the_cursor_shows_reversed(
    no_color_demo: Terminal,
) -> None:
    no_color_demo.wait_for(r"Welcome to the tuimail", timeout=60)
    mark = len(no_color_demo.raw)
    no_color_demo.type("j")  # the cursor moves: its line is drawn again, and the one it left
    no_color_demo.wait_for(r"\S", timeout=20, since=mark)
    no_color_demo.type("?")  # the help, over the dimmed main screen
    no_color_demo.wait_for(r"Undo the last move", timeout=20, since=mark)

    sequences = _SGR.findall(no_color_demo.raw)
    used = sorted({colour for sequence in sequences for colour in colours(sequence)})
    assert used == [], f"colours written with NO_COLOR=1: {used[:20]}"
    assert any("7" in sequence.decode().split(";") for sequence in sequences), "no reverse video"
