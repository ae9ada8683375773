"""``tuimail completion SHELL``: the script a real bash loads, and what a Tab then offers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tuimail.cli import main

BIN = Path(sys.executable).parent  # the tuimail script the shell runs on Tab
CONFIG = """\
[accounts.work]
email = "ann@example.com"
[accounts.work.pop3]
host = "127.0.0.1"
[accounts.home]
email = "ann@example.org"
[accounts.home.pop3]
host = "127.0.0.1"
"""


def bash(script: str, config: Path) -> str:
    """Run ``script`` in a bash that has loaded ``tuimail completion bash``."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "TUIMAIL_CONFIG": str(config)}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", f'eval "$(tuimail completion bash)"\n{script}'],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def tab(words: list[str], config: Path) -> list[str]:
    """What bash offers for the last of ``words``, through the loaded completion function."""
    quoted = " ".join(f"'{word}'" for word in words)
    out = bash(
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n_tuimail_completion tuimail\n"
        'printf "%s\\n" "${COMPREPLY[@]}"',
        config,
    )
    return out.split()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def test_the_bash_script_registers_completion_for_tuimail(config: Path) -> None:
    assert bash("complete -p tuimail", config).strip() == (
        "complete -o nosort -F _tuimail_completion tuimail"
    )


def test_tab_completes_a_command_name_in_bash(config: Path) -> None:
    assert tab(["tuimail", "fol"], config) == ["folder"]
    assert tab(["tuimail", "folder", "re"], config) == ["rename"]
    assert tab(["tuimail", "help", "man", "t"], config) == ["tuimail", "tuimail-config"]


def test_tab_completes_account_names_from_the_config_file(config: Path) -> None:
    assert tab(["tuimail", "list", "w"], config) == ["work/", "work/INBOX"]
    assert tab(["tuimail", "sync", ""], config) == ["home", "work"]
    assert tab(["tuimail", "doctor", "h"], config) == ["home"]


def test_tab_without_a_config_file_offers_no_account_and_no_error(tmp_path: Path) -> None:
    assert tab(["tuimail", "list", ""], tmp_path / "missing.toml") == []


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_call_tuimail_for_completions(shell: str) -> None:
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0, result.output
    assert f"_TUIMAIL_COMPLETE={shell}_complete" in result.stdout
    if shutil.which(shell):  # not installed here; where it is, the script must at least parse
        checked = subprocess.run([shell, "-n"], input=result.stdout, capture_output=True)
        assert checked.returncode == 0, checked.stderr


def test_completion_works_with_a_broken_config_file(tmp_path: Path) -> None:
    broken = tmp_path / "config.toml"
    broken.write_text("[accounts.work\n")
    result = CliRunner().invoke(main, ["--config", str(broken), "completion", "bash"])
    assert result.exit_code == 0, result.output
    assert "_TUIMAIL_COMPLETE=bash_complete" in result.stdout
    assert tab(["tuimail", "list", ""], broken) == []
