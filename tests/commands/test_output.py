"""What the commands print: one Message-ID per send, an empty outbox said, private exports."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import configure
from tests.test_cli import fill
from tuimail.cli import main


def test_send_prints_the_message_id_once(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    config = configure(tmp_path, dovecot, mail_user, smtp_server)
    result = CliRunner().invoke(
        main, ["--config", str(config), "send", "--to", "bob@example.net"], input="Hi\n"
    )
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert line.startswith("<") and line.endswith("@example.org>")


def test_an_empty_outbox_says_it_is_empty(tmp_path: Path, data_dir: Path) -> None:
    fill(data_dir, 1)
    result = CliRunner().invoke(main, ["outbox"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "outbox is empty\n"


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("count", [1, 2])
def test_export_writes_an_mbox_only_the_user_can_read_and_counts_in_words(
    tmp_path: Path, data_dir: Path, count: int
) -> None:
    fill(data_dir, count)
    out = tmp_path / "out.mbox"
    result = CliRunner().invoke(main, ["export", "home/INBOX", str(out)])
    assert result.exit_code == 0, result.output
    noun = "message" if count == 1 else "messages"
    assert result.stdout == f"exported {count} {noun} to {out}\n"
    assert private(out)


def test_export_to_maildir_makes_every_file_and_folder_private(
    tmp_path: Path, data_dir: Path
) -> None:
    fill(data_dir, 2)
    assert CliRunner().invoke(main, ["folder", "create", "home/Bills"]).exit_code == 0
    out = tmp_path / "maildir"
    result = CliRunner().invoke(main, ["export", "home", str(out), "--format", "maildir"])
    assert result.exit_code == 0, result.output
    made = [out, *out.rglob("*")]
    assert (out / ".Bills" / "maildirfolder").exists()
    assert [path for path in made if not private(path)] == []
