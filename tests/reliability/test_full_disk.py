"""A full disk while `tuimail sync` downloads POP3 mail (leave_on_server = false).

The child may not grow any file past LIMIT bytes (RLIMIT_FSIZE, with SIGXFSZ ignored): its
writes then fail with EFBIG the way they fail with ENOSPC on a full disk, SQLite reports an I/O
error, and nothing needs root or a loop device. The sync must stop with one line, delete nothing
on the server that is not safely stored, leave the store intact, and finish once space is free.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.accounts import pop3_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.sync.test_pop3_crash import check_nothing_lost, in_store
from tuimail.demo.mailbox import generate

ROOT = Path(__file__).resolve().parents[2]
COUNT = 1000  # about 1.2 MB of mail: the store needs well over LIMIT to hold it
LIMIT = 1_000_000


def sync(
    config: Path, data_dir: Path, limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    def full_disk() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, not the process

    return subprocess.run(
        [sys.executable, "-m", "tuimail", "--config", str(config), "sync"],
        env={**os.environ, "TUIMAIL_DATA_DIR": str(data_dir)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        preexec_fn=full_disk,
    )


def account(dovecot: Dovecot, user: MailUser, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A POP3 mailbox of COUNT messages and a config (password from a command, no warning)."""
    messages = list(generate(COUNT, seed=31, malformed_every=0))
    dovecot.deliver(user, [m.raw for m in messages])
    table = pop3_table(dovecot, user, leave_on_server=False)
    table["pop3"]["password_command"] = f"echo {table['pop3'].pop('password')}"
    config = write_config(tmp_path / "config.toml", home=table)
    return config, {m.message_id: m.raw for m in messages}


def assert_nothing_lost(originals: dict[str, bytes], user: MailUser, data_dir: Path) -> None:
    stored = check_nothing_lost(originals, user, data_dir)
    assert len(stored) < COUNT, "the limit did not stop the download"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_full_disk_stops_the_download_and_the_next_run_completes(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    config, originals = account(dovecot, mail_user, tmp_path)
    data_dir = tmp_path / "data"

    full = sync(config, data_dir, LIMIT)

    assert full.returncode != 0
    assert "Traceback" not in full.stderr
    (line,) = full.stderr.splitlines()
    assert line.startswith("tuimail: ")
    assert_nothing_lost(originals, mail_user, data_dir)

    freed = sync(config, data_dir)

    assert freed.returncode == 0, freed.stderr
    assert in_store(data_dir) == originals  # each message once, byte for byte
    assert mail_user.message_ids_in_inbox() == set()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_full_disk_is_one_line_that_says_so_even_when_the_log_cannot_grow(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    config, originals = account(dovecot, mail_user, tmp_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    # On a full disk the log cannot grow either.
    (data_dir / "tuimail.log").write_bytes(b"an old log line\n" * (LIMIT // 16))

    full = sync(config, data_dir, LIMIT)

    assert_nothing_lost(originals, mail_user, data_dir)
    assert full.returncode == 1, full.stderr
    (line,) = full.stderr.splitlines()
    assert line.startswith("tuimail: ") and ("full" in line or "space" in line), line
