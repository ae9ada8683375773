"""``tuimail folder rename``: NEW is a folder of the same account, with or without its prefix."""

from __future__ import annotations

import imaplib
import ssl
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.harness.accounts import imap_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.test_cli import fill
from tuimail.cli import main


def server_folders(dovecot: Dovecot, user: MailUser) -> list[str]:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as imap:
        imap.login(user.name, user.password)
        listed = [line for line in imap.list()[1] if isinstance(line, bytes)]
    # (\HasNoChildren) "/" name: the name follows the delimiter, quoted or not.
    return [line.decode().split('" ', 1)[1].strip('"') for line in listed]


def test_rename_to_account_slash_folder_renames_within_the_account_on_the_server(
    tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    config = str(write_config(tmp_path / "c.toml", work=imap_table(dovecot, mail_user)))
    runner = CliRunner()

    def tuimail(*args: str) -> Any:
        return runner.invoke(main, ["--config", config, *args])

    assert tuimail("sync").exit_code == 0
    assert tuimail("folder", "create", "work/WalkTest").exit_code == 0
    renamed = tuimail("folder", "rename", "work/WalkTest", "work/WalkTest2")
    assert renamed.exit_code == 0, renamed.output
    assert renamed.stdout == "renamed work/WalkTest to work/WalkTest2\n"
    folders = server_folders(dovecot, mail_user)
    assert "WalkTest2" in folders and "work/WalkTest2" not in folders
    assert tuimail("list", "work/WalkTest2").exit_code == 0
    # Without the prefix it is the same account's folder too.
    assert tuimail("folder", "rename", "work/WalkTest2", "WalkTest3").exit_code == 0
    assert "WalkTest3" in server_folders(dovecot, mail_user)
    assert tuimail("folder", "delete", "work/WalkTest3").exit_code == 0


def test_rename_into_another_account_is_refused_and_nothing_changes(
    tmp_path: Path, data_dir: Path
) -> None:
    fill(data_dir, 1)
    config = data_dir.parent / "config.toml"
    config.write_text(
        config.read_text() + '[accounts.work]\nemail = "w@example.org"\n'
        '[accounts.work.pop3]\nhost = "127.0.0.1"\n'
    )
    runner = CliRunner()
    assert runner.invoke(main, ["folder", "create", "home/Bills"]).exit_code == 0
    refused = runner.invoke(main, ["folder", "rename", "home/Bills", "work/Bills"])
    assert refused.exit_code == 1
    assert refused.stderr == (
        "tuimail: a folder stays in its account: give NEW as home/NAME or NAME, not work/Bills\n"
    )
    assert runner.invoke(main, ["list", "home/Bills"]).exit_code == 0
    local = runner.invoke(main, ["folder", "rename", "home/Bills", "home/Paid"])
    assert local.exit_code == 0, local.output
    assert runner.invoke(main, ["list", "home/Paid"]).exit_code == 0
