"""`tuimail contacts`: the ranked addresses (and the address book command's) in mutt's
query_command format, exit 1 when none match, so other programs can use it."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

from click.testing import CliRunner

from tests.harness.accounts import write_config
from tuimail import paths
from tuimail.cli import main
from tuimail.store.db import open_store
from tuimail.sync.address_book import AddressBook


def configure(tmp_path: Path, ui: str = "") -> Path:
    config = write_config(
        tmp_path / "config.toml",
        home={"email": "me@example.org", "pop3": {"host": "127.0.0.1", "security": "none"}},
    )
    config.write_text(config.read_text() + ui)
    return config


async def written_to(*pairs: tuple[str, str]) -> None:
    store = await open_store(paths.store_file())
    try:
        book = AddressBook(store, None)
        for _ in range(len(pairs)):  # the first pair written to most often ranks first
            await book.record_written(pairs)
            pairs = pairs[:-1]
    finally:
        await store.close()


def test_contacts_prints_a_mutt_query_answer_best_first(tmp_path: Path, data_dir: Path) -> None:
    config = configure(tmp_path)
    asyncio.run(written_to(("Zed Often", "zed.often@example.com"), ("Zed Once", "zed@x.example")))

    result = CliRunner().invoke(main, ["--config", str(config), "contacts", "zed"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "tuimail: 2 addresses matching 'zed'",
        "zed.often@example.com\tZed Often\twritten",
        "zed@x.example\tZed Once\twritten",
    ]
    everyone = CliRunner().invoke(main, ["--config", str(config), "contacts"])
    assert everyone.stdout.splitlines()[1:] == result.stdout.splitlines()[1:]


def test_contacts_json_merges_the_address_book_command_each_address_once(
    tmp_path: Path, data_dir: Path
) -> None:
    script = tmp_path / "khard"
    script.write_text(
        "#!/bin/sh\necho \"searching for '$1' ...\"\n"
        "printf 'quentin@khard.example\\tQuentin Khard\\twork\\n'\n"
        "printf 'zed.often@example.com\\tOther Name\\thome\\n'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    config = configure(tmp_path, f'[ui]\naddress_book_command = "{script} email --parsable %s"\n')
    asyncio.run(written_to(("Zed Often", "zed.often@example.com")))

    result = CliRunner().invoke(main, ["--config", str(config), "contacts", "--json", "zed"])

    assert result.exit_code == 0, result.output
    assert [(row["email"], row["name"]) for row in json.loads(result.stdout)] == [
        ("zed.often@example.com", "Zed Often"),
        ("quentin@khard.example", "Quentin Khard"),
    ]


def test_contacts_with_no_match_exits_1_as_a_mutt_query_does(
    tmp_path: Path, data_dir: Path
) -> None:
    config = configure(tmp_path)
    asyncio.run(written_to(("Zed Often", "zed.often@example.com")))

    result = CliRunner().invoke(main, ["--config", str(config), "contacts", "nobody"])

    assert result.exit_code == 1
    assert result.stdout == "tuimail: 0 addresses matching 'nobody'\n"
