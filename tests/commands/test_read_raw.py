"""``tuimail read ... --raw``: the message exactly as stored, for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.harness.accounts import imap_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.cli import main

# CRLF line ends (what IMAP serves), an 8-bit body and a NUL-free binary-ish line: the bytes a
# script must get back untouched, whatever the terminal's encoding.
DELIVERED = (
    b"From: Rita Raw <rita@example.net>\r\nTo: ann@example.org\r\n"
    b"Subject: bytes as they are\r\nDate: Sat, 14 Mar 2026 15:29:00 +0000\r\n"
    b"Message-ID: <raw@example.net>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"Caf\xe9 cr\xe8me, \x1b[31mnot a colour\x1b[0m\r\n"
    b"From the start of a line\r\n"
)


def test_read_raw_prints_the_delivered_bytes_fetching_the_body_first(
    tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [DELIVERED])
    config = str(write_config(tmp_path / "c.toml", work=imap_table(dovecot, mail_user)))
    runner = CliRunner()
    assert runner.invoke(main, ["--config", config, "sync"]).exit_code == 0
    listed = runner.invoke(main, ["--config", config, "list", "work/INBOX", "--json"])
    uid = str(json.loads(listed.stdout.splitlines()[0])["uid"])
    command = [sys.executable, "-m", "tuimail", "--config", config, "read", "work/INBOX", uid]
    first = subprocess.run([*command, "--raw"], capture_output=True, timeout=60, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stdout == DELIVERED, "fetched from the server (only headers were stored)"
    again = subprocess.run([*command, "--raw"], capture_output=True, timeout=60, check=False)
    assert again.stdout == DELIVERED, "read back from the store"
