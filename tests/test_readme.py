"""The README's set-up commands are the ones CI runs, and its examples are real."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_exactly_two_setup_commands() -> None:
    blocks = shell_blocks()
    assert len(blocks) == 2
    assert all("\n" not in block for block in blocks)
    assert "tuimail --demo" in blocks[0]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci_lines[-1] == shell_blocks()[1]
