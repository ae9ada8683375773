"""The command line: one-line errors with the right exit status, offline listing and export."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tuimail.cli import main
from tuimail.demo.mailbox import generate
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store import queries
from tuimail.store.db import Store, open_store
from tuimail.store.records import NewMessage

HOME_CONFIG = '[accounts.home]\nemail = "a@example.org"\n[accounts.home.pop3]\nhost = "127.0.0.1"\n'


def fill(data_dir: Path, count: int = 12) -> None:
    """Store ``count`` generated messages in home/INBOX and close the store again.

    The config file (``data_dir`` fixture: beside the data dir) names the account: every
    command reads and checks it first.
    """
    config = data_dir.parent / "config.toml"
    if not config.exists():
        config.write_text(HOME_CONFIG)
    asyncio.run(_fill(data_dir, count))


async def _fill(data_dir: Path, count: int) -> None:
    store = await open_store(data_dir / "mail.sqlite3")
    try:
        await _insert(store, count)
    finally:
        await store.close()


async def _insert(store: Store, count: int) -> None:
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", "a@example.org")
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox", is_local=True)
        items = [
            NewMessage(envelope_from_bytes(m.raw), uidl=str(n), raw=m.raw)
            for n, m in enumerate(generate(count, seed=3, malformed_every=0))
        ]
        await queries.insert_messages(session, inbox, items)


def test_bad_config_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[accounts.x]\nemail = 'x@example.org'\n[accounts.x.imap]\nhost = 1\n")
    env = {"TUIMAIL_DATA_DIR": str(tmp_path / "data"), "TUIMAIL_CONFIG": str(config)}
    result = subprocess.run(
        [sys.executable, "-m", "tuimail"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "accounts.x.imap.host" in result.stderr and "Traceback" not in result.stderr


def test_missing_config_says_how_to_start(tmp_path: Path, data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert "no config file" in result.output and "--demo" in result.output


@pytest.mark.parametrize("command", [["list"], ["folder", "create"], ["sync"], ["send"]])
def test_a_command_help_answers_without_a_config_file(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), *command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {' '.join(command)} [OPTIONS]")


def test_list_reads_the_store_offline(data_dir: Path) -> None:
    fill(data_dir)
    result = CliRunner().invoke(main, ["list", "home/INBOX", "--limit", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 5
    assert "(11)" in lines[0]  # newest first


def test_list_json_has_one_object_per_message(data_dir: Path) -> None:
    fill(data_dir)
    result = CliRunner().invoke(main, ["list", "home/INBOX", "--json"])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert len(objects) == 12
    assert set(objects[0]) == {"uid", "message_id", "date", "from", "subject", "flags"}
    assert objects[-1]["message_id"] == "<3.0@gen.example.org>"


def test_read_prints_the_rendered_message(data_dir: Path) -> None:
    fill(data_dir, 3)
    listed = CliRunner().invoke(main, ["list", "home/INBOX", "--json"])
    uid = json.loads(listed.output.splitlines()[0])["uid"]
    result = CliRunner().invoke(main, ["read", "home/INBOX", str(uid)])
    assert result.exit_code == 0, result.output
    assert "Subject:" in result.output and "From:" in result.output
    assert "\x1b" not in result.output


def test_unknown_folder_is_one_line_exit_1(data_dir: Path) -> None:
    fill(data_dir, 1)
    result = CliRunner().invoke(main, ["list", "home/Nope"])
    assert result.exit_code == 1
    assert result.output.strip() == "tuimail: no folder 'Nope' in account 'home'"


def test_export_command_writes_an_mbox(data_dir: Path, tmp_path: Path) -> None:
    fill(data_dir, 4)
    result = CliRunner().invoke(main, ["export", "home/INBOX", str(tmp_path / "x.mbox")])
    assert result.exit_code == 0, result.output
    assert "exported 4 messages" in result.output
    assert (tmp_path / "x.mbox").read_bytes().count(b"\nFrom ") + 1 == 4


def test_folder_commands_manage_local_folders(tmp_path: Path, data_dir: Path) -> None:
    from tests.harness.accounts import write_config

    fill(data_dir, 2)
    table = {"email": "a@example.org", "pop3": {"host": "127.0.0.1", "security": "none"}}
    config = str(write_config(tmp_path / "c.toml", home=table))
    runner = CliRunner()
    assert (
        runner.invoke(main, ["--config", config, "folder", "create", "home/Receipts"]).exit_code
        == 0
    )
    again = runner.invoke(main, ["--config", config, "folder", "create", "home/Receipts"])
    assert again.exit_code == 1 and "already exists" in again.output
    renamed = runner.invoke(
        main, ["--config", config, "folder", "rename", "home/Receipts", "Bills"]
    )
    assert renamed.exit_code == 0
    assert runner.invoke(main, ["list", "home/Bills"]).exit_code == 0
    assert (
        runner.invoke(main, ["--config", config, "folder", "delete", "home/Bills"]).exit_code == 0
    )
    gone = runner.invoke(main, ["list", "home/Bills"])
    assert gone.exit_code == 1 and "no folder 'Bills'" in gone.output
    special = runner.invoke(main, ["--config", config, "folder", "delete", "home/INBOX"])
    assert special.exit_code == 1 and "special folder" in special.output


def test_folder_commands_on_an_imap_account_change_the_server(
    tmp_path: Path, data_dir: Path, dovecot: Any, mail_user: Any
) -> None:
    import imaplib
    import ssl

    from tests.harness.accounts import imap_table, write_config

    config = str(write_config(tmp_path / "c.toml", work=imap_table(dovecot, mail_user)))
    runner = CliRunner()
    assert runner.invoke(main, ["--config", config, "sync"]).exit_code == 0
    created = runner.invoke(main, ["--config", config, "folder", "create", "work/Reçus"])
    assert created.exit_code == 0, created.output
    moved = runner.invoke(main, ["--config", config, "folder", "rename", "work/Reçus", "Factures"])
    assert moved.exit_code == 0, moved.output
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as imap:
        imap.login(mail_user.name, mail_user.password)
        listed = b" ".join(x for x in imap.list()[1] if isinstance(x, bytes))
    assert b"Factures" in listed and b"Re&AOc-us" not in listed
    assert (
        runner.invoke(main, ["--config", config, "folder", "delete", "work/Factures"]).exit_code
        == 0
    )


def test_sync_list_and_read_an_imap_account_then_one_failing_account_fails_the_run(
    tmp_path: Path, data_dir: Path, dovecot: Any, mail_user: Any
) -> None:
    from tests.harness.accounts import imap_table, pop3_table, write_config

    dovecot.deliver(mail_user, [m.raw for m in generate(6, seed=8, malformed_every=0)])
    config = write_config(tmp_path / "c.toml", work=imap_table(dovecot, mail_user))
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("work: 6 new")
    with sqlite3.connect(data_dir / "mail.sqlite3") as db:
        waiting, indexed = db.execute(
            "SELECT (SELECT count(*) FROM fts_pending), (SELECT count(*) FROM messages_fts)"
        ).fetchone()
    assert (waiting, indexed) == (0, 6), "the sync indexed its messages for search"
    listed = CliRunner().invoke(main, ["--config", str(config), "list", "work/INBOX", "--json"])
    newest = json.loads(listed.stdout.splitlines()[0])
    assert newest["message_id"] == "<8.5@gen.example.org>"
    shown = CliRunner().invoke(
        main, ["--config", str(config), "read", "work/INBOX", str(newest["uid"])]
    )
    assert shown.exit_code == 0 and "Subject:" in shown.stdout
    with sqlite3.connect(data_dir / "mail.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM message_bodies").fetchone() == (1,)
    again = CliRunner().invoke(
        main, ["--config", str(config), "read", "work/INBOX", str(newest["uid"])]
    )
    assert again.stdout == shown.stdout, "the fetched body was stored and reads the same"
    broken = write_config(
        tmp_path / "d.toml",
        work=imap_table(dovecot, mail_user),
        home=pop3_table(dovecot, mail_user, password="wrong"),
    )
    result = CliRunner().invoke(main, ["--config", str(broken), "sync"])
    assert result.exit_code == 1
    assert "work: 0 new" in result.stdout
    assert "tuimail: home:" in result.output and "refused" in result.output


def test_account_add_refuses_a_name_that_is_taken(tmp_path: Path, data_dir: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.home]\nemail = "a@example.org"\n[accounts.home.imap]\nhost = "h"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "account", "add", "--name", "home"])
    assert result.exit_code == 1
    assert result.output == f"tuimail: an account named 'home' already exists in {config}\n"


def test_account_add_without_a_terminal_says_it_needs_one(tmp_path: Path, data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "c.toml"), "account", "add"])
    assert result.exit_code == 1
    assert result.output == "tuimail: `tuimail account add` shows a form: run it in a terminal\n"
    assert not (tmp_path / "c.toml").exists()


def test_first_run_in_a_terminal_opens_the_setup_form(tmp_path: Path) -> None:
    from tests.demo.test_demo_pty import Terminal

    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    terminal = Terminal([sys.executable, "-m", "tuimail"], env)
    try:
        terminal.wait_for("Set up a mail account", timeout=60)
        terminal.wait_for("Test and save", timeout=10)
        terminal.type("\x1b")  # Escape: leave without saving
        assert terminal.finish(timeout=30) == 0
        assert "no account was set up; `tuimail account add` opens the form again" in (
            terminal.text()
        )
    finally:
        terminal.kill()
    assert not (home / ".config" / "tuimail" / "config.toml").exists()


def test_list_into_a_pipe_closed_early_ends_quietly(data_dir: Path) -> None:
    fill(data_dir, 400)  # more than a pipe buffer's worth of lines
    env = {
        **os.environ,
        "TUIMAIL_DATA_DIR": str(data_dir),
        "TUIMAIL_CONFIG": str(data_dir.parent / "config.toml"),
    }
    # As `tuimail list home/INBOX | head -1` does: the reader goes after one line.
    with subprocess.Popen(
        [sys.executable, "-m", "tuimail", "list", "home/INBOX", "--limit", "400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()
        process.stdout.close()
        error = process.stderr.read().decode()
        status = process.wait(timeout=60)
    assert error == "" and status == 1
