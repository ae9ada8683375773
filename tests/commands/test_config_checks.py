"""Every command checks the config file the same way: exit 2 and one line naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tuimail import ui_checks
from tuimail.cli import main

ACCOUNT = '[accounts.x]\nemail = "x@example.org"\n[accounts.x.pop3]\nhost = "localhost"\n'

# (config text, what the one line must say besides the file's path)
BROKEN = {
    "bad TOML": ("[accounts.x\n", "not valid TOML"),
    "unknown key": ("[ui]\ncolour = 'red'\n" + ACCOUNT, "ui.colour: unknown key"),
    "wrong type": ("[ui]\nbell = 'loud'\n" + ACCOUNT, "ui.bell:"),
    "unknown binding id": (
        "[ui.keys]\nrepyl = 'r'\n" + ACCOUNT,
        "ui.keys.repyl: unknown binding id",
    ),
    "empty key": ("[ui.keys]\nreply = ' '\n" + ACCOUNT, "ui.keys.reply: give one key"),
    "unknown theme": ("[ui]\ntheme = 'nosuch'\n" + ACCOUNT, "ui.theme: no theme named 'nosuch'"),
}

COMMANDS = {
    "interface": [],
    "list": ["list", "x/INBOX"],
    "read": ["read", "x/INBOX", "1"],
    "export": ["export", "x", "OUT"],
    "send": ["send", "--to", "a@example.org"],
    "outbox": ["outbox"],
    "drafts": ["drafts"],
    "folder create": ["folder", "create", "x/F"],
    "folder rename": ["folder", "rename", "x/F", "G"],
    "folder delete": ["folder", "delete", "x/F"],
    "sync": ["sync"],
}


def invoke(config: Path, args: list[str], out: Path) -> tuple[int, str, str]:
    argv = ["--config", str(config), *[str(out) if a == "OUT" else a for a in args]]
    result = CliRunner().invoke(main, argv, input="")
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("problem", BROKEN)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_broken_config_with_one_line_and_exit_2(
    tmp_path: Path, data_dir: Path, command: str, problem: str
) -> None:
    text, expected = BROKEN[problem]
    config = tmp_path / "broken.toml"
    config.write_text(text)
    out = tmp_path / "out.mbox"
    status, stdout, stderr = invoke(config, COMMANDS[command], out)
    assert status == 2, (stdout, stderr)
    assert stdout == ""
    [line] = stderr.splitlines()
    assert line.startswith(f"tuimail: {config}: ") and expected in line
    assert not out.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_config_option_naming_a_missing_file(
    tmp_path: Path, data_dir: Path, command: str
) -> None:
    missing = tmp_path / "none.toml"
    status, stdout, stderr = invoke(missing, COMMANDS[command], tmp_path / "out.mbox")
    assert status == 2, (stdout, stderr)
    [line] = stderr.splitlines()
    assert f"no config file at {missing}" in line and "tuimail account add" in line


def test_doctor_names_the_unknown_binding_id_and_the_file(tmp_path: Path, data_dir: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(BROKEN["unknown binding id"][0])
    result = CliRunner().invoke(main, ["--config", str(config), "doctor"])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"config   FAIL  {config}: ui.keys.repyl: unknown binding id")


def test_doctor_without_a_config_file_says_how_to_make_one(tmp_path: Path, data_dir: Path) -> None:
    missing = tmp_path / "none.toml"
    result = CliRunner().invoke(main, ["--config", str(missing), "doctor"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"config   FAIL  no config file at {missing}",
        "         fix:  run `tuimail account add` (or `tuimail --demo` to try tuimail first)",
    ]


def test_a_theme_from_the_user_themes_dir_is_accepted(tmp_path: Path, data_dir: Path) -> None:
    # data_dir points TUIMAIL_CONFIG at tmp_path/config.toml: user themes are in tmp_path/themes.
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "mine.toml").write_text('primary = "#5f9ea0"\n')
    config = tmp_path / "config.toml"
    config.write_text("[ui]\ntheme = 'mine'\n" + ACCOUNT)
    result = CliRunner().invoke(main, ["outbox"])
    assert result.exit_code == 0, result.output


def test_the_binding_ids_checked_without_textual_are_the_interfaces() -> None:
    from textual.theme import BUILTIN_THEMES

    from tuimail.ui import keys

    assert set(keys.BY_ID) == ui_checks.BINDING_IDS
    assert set(BUILTIN_THEMES) == ui_checks.TEXTUAL_THEMES
