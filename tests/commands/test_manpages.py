"""tuimail(1) and tuimail-config(5): made from the command tree and the config models, committed
in man/ as the generator makes them, and rendered by a real ``man`` and ``groff`` cleanly."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from tuimail import config, keytable
from tuimail.cli import main
from tuimail.commands import man_config, roff

MAN_DIR = Path(__file__).resolve().parents[2] / "man"
PAGES = {"1": MAN_DIR / "tuimail.1", "5": MAN_DIR / "tuimail-config.5"}
# Each table of the config file and the model whose keys it takes; a new model in config.py
# must be placed here, so the test cannot miss a section.
TABLES: dict[str, type[BaseModel]] = {
    "[accounts.NAME]": config.AccountConfig,
    "[accounts.NAME.imap]": config.ServerConfig,
    "[accounts.NAME.pop3]": config.Pop3Config,
    "[accounts.NAME.smtp]": config.ServerConfig,
    "[[accounts.NAME.identities]]": config.Identity,
    "[accounts.NAME.folders]": config.FolderNames,
    "[ui]": config.UIConfig,
}
SUBTABLES = {"imap", "pop3", "smtp", "identities", "folders", "keys"}


def generated(page: str) -> str:
    result = CliRunner().invoke(main, ["help", "man", page])
    assert result.exit_code == 0, result.output
    return result.stdout


def rendered(source: str) -> str:
    """The page as ``man`` shows it at 80 columns; its error output must be empty."""
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "1", "LC_ALL": "C.UTF-8"}
    formatted = subprocess.run(
        ["man", "-l", "-"], input=source, capture_output=True, text=True, env=env, check=True
    )
    assert formatted.stderr == ""
    assert formatted.stdout.strip()
    # The words themselves: no hyphenation nor justification, no bold overstrikes.
    plain = subprocess.run(
        ["man", "--nh", "--nj", "-l", "-"],
        input=source,
        capture_output=True,
        text=True,
        env={**env, "MAN_KEEP_FORMATTING": ""},
        check=True,
    )
    assert plain.stderr == ""
    return plain.stdout


@pytest.mark.parametrize("page", ["1", "5"])
def test_committed_man_page_is_what_the_generator_makes(page: str) -> None:
    assert PAGES[page].read_text() == generated(page), (
        f"{PAGES[page].name} is out of date: run "
        "`tuimail help man 1 > man/tuimail.1; tuimail help man 5 > man/tuimail-config.5`"
    )


@pytest.mark.parametrize("page", ["1", "5"])
def test_groff_formats_the_man_page_without_a_warning(page: str) -> None:
    checked = subprocess.run(
        ["groff", "-ww", "-z", "-man"], input=generated(page), capture_output=True, text=True
    )
    assert checked.returncode == 0
    assert checked.stderr == ""


def test_help_man_prints_a_page_without_any_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    for page, title in (("1", '.TH "TUIMAIL" "1"'), ("config", '.TH "TUIMAIL\\-CONFIG" "5"')):
        result = CliRunner().invoke(main, ["--config", str(missing), "help", "man", page])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(title)


def test_tuimail_1_shows_every_command_with_its_options_and_every_key() -> None:
    text = rendered(generated("1"))
    commands = list(_commands(main, click.Context(main, info_name="tuimail")))
    headings = [text.index(f"\n   {path}\n") for path, _ in commands]
    assert headings == sorted(headings), "commands in the order of `--help`"
    for (path, command), start in zip(commands, headings, strict=True):
        section = text[start : text.find("\n   tuimail ", start + 1)]
        summary = command.get_short_help_str(limit=1000).replace("`", "")[:30]
        assert summary in " ".join(section.split()), path
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.opts[0] in section, f"{path}: {param.opts[0]}"
    keys = text[text.index("\nKEYS\n") : text.index("\nFILES\n")]
    for entry in keytable.ACTIONS:
        assert f"[{entry.id}]" in keys
    for title in keytable.SCOPE_TITLES.values():
        assert f"\n   {title}\n" in keys


def test_tuimail_config_5_shows_every_key_of_every_table() -> None:
    text = rendered(generated("5"))
    models = {
        model
        for model in vars(config).values()
        if isinstance(model, type) and issubclass(model, BaseModel) and model.model_fields
    }
    assert models - set(TABLES.values()) == {config.Config}, "a new table: add it to TABLES"
    starts = {header: text.index(f"\n   {header}\n") for header in [*TABLES, "[ui.keys]"]}
    ends = sorted([*starts.values(), text.index("\nEXAMPLE\n")])
    for header, model in TABLES.items():
        start = starts[header]
        section = text[start : ends[ends.index(start) + 1]]
        for name in model.model_fields:
            if name not in SUBTABLES:
                assert re.search(rf"\n       {name} \(", section), f"{header} {name}"
    keys = text[starts["[ui.keys]"] : text.index("\nEXAMPLE\n")]
    for entry in keytable.ACTIONS:
        assert f'{entry.id} = "{entry.keys}"' in keys


def test_the_config_example_in_the_man_page_is_a_valid_config() -> None:
    loaded = config.parse_config(tomllib.loads(man_config.EXAMPLE))
    assert set(loaded.accounts) == {"work", "home"}
    assert man_config.EXAMPLE.splitlines()[0] in rendered(generated("5"))


def test_roff_specials_in_a_help_text_print_as_written() -> None:
    source = "\n".join(
        [
            '.TH "T" "1"',
            ".SH NAME",
            *roff.text_lines(".hidden files start with a dot, C:\\dir with a backslash."),
            *roff.text_lines("'quoted' text and --an-option."),
        ]
    )
    text = " ".join(rendered(source).split())
    assert ".hidden files start with a dot, C:\\dir with a backslash." in text
    assert "'quoted' text and --an-option." in text


def _commands(group: click.Group, parent: click.Context) -> list[tuple[str, click.Command]]:
    found = []
    for name in group.list_commands(parent):
        command = group.get_command(parent, name)
        assert command is not None
        ctx = click.Context(command, info_name=name, parent=parent)
        if isinstance(command, click.Group):
            found += _commands(command, ctx)
        else:
            found.append((ctx.command_path, command))
    return found
