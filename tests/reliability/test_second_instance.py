"""A second tuimail on the data dir of one that is syncing (tests/store/test_db.py checks the
lock itself): `tuimail sync` refuses in one line naming the other's pid, `tuimail list` reads the
store read-only meanwhile, and the first one finishes with an intact, complete store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.accounts import imap_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.reliability.crash_checks import (
    assert_store_matches_server,
    check_store,
    server_folders,
)
from tests.reliability.crash_workers import ForkServer
from tuimail.demo.mailbox import generate

ROOT = Path(__file__).resolve().parents[2]
WORKER = "tests.reliability.crash_imap_sync_worker"
BATCH = 200


def tuimail(config: Path, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuimail", "--config", str(config), *args],
        env={**os.environ, "TUIMAIL_DATA_DIR": str(data_dir)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.timeout(120)
def test_a_second_sync_refuses_and_list_reads_while_a_sync_holds_the_store(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    messages = list(generate(1000, seed=41, malformed_every=0))
    dovecot.deliver(mail_user, [m.raw for m in messages])
    table = imap_table(dovecot, mail_user)
    table["imap"]["password_command"] = f"echo {table['imap'].pop('password')}"
    config = write_config(tmp_path / "config.toml", x=table)  # the worker names it "x"
    data_dir = tmp_path / "data"
    release = tmp_path / "release"
    os.mkfifo(release)
    args = {
        "table": table,
        "store": str(data_dir / "mail.sqlite3"),
        "kill": "none",
        "batch": BATCH,
        "pause": "in_batch:2",  # inside an open write transaction
        "release": str(release),
    }
    with ForkServer(WORKER) as workers:
        first = workers.start(WORKER, args)
        paused = first.wait_for("paused")  # one batch committed, the second being written
        assert paused is not None, first.lines

        second = tuimail(config, data_dir, "sync")
        listed = tuimail(config, data_dir, "list", "x/INBOX", "--json")

        os.close(os.open(release, os.O_WRONLY))  # let the first one go on
        assert workers.end(first).completed

    pid = paused.split()[1]
    assert second.returncode == 1 and second.stdout == ""
    (line,) = second.stderr.splitlines()
    assert line.startswith(f"tuimail: another tuimail (pid {pid}) is using {data_dir}"), line
    assert listed.returncode == 0, listed.stderr
    shown = [json.loads(row)["message_id"] for row in listed.stdout.splitlines()]
    assert len(shown) == BATCH  # what the first had committed, not what it is writing
    assert set(shown) <= {m.message_id for m in messages}
    assert_store_matches_server(
        check_store(data_dir / "mail.sqlite3"), server_folders(dovecot, mail_user)
    )
    assert tuimail(config, data_dir, "sync").returncode == 0  # the store is free again
