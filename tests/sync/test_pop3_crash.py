"""SIGKILL the POP3 fetcher at many points: every message ends up stored exactly once, and the
server never loses a message that was not already committed to the store."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.accounts import pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.demo.mailbox import generate

ROOT = Path(__file__).parents[2]
COUNT = 40


def run_worker(
    table: dict[str, object], data_dir: Path, spec: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.sync.pop3_crash_worker",
            json.dumps(table),
            str(data_dir),
            spec,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, -9), result.stderr[-2000:]
    return result


def in_store(data_dir: Path) -> dict[str, bytes]:
    path = data_dir / "mail.sqlite3"
    if not path.exists():
        return {}
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute(
            "SELECT m.message_id, b.raw FROM messages m "
            "JOIN message_bodies b ON b.message_pk = m.id"
        ).fetchall()
        uidls = db.execute("SELECT count(*) FROM pop3_uidls").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # killed before the schema was committed
            return {}
        raise
    finally:
        db.close()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "a message was stored twice"
    assert uidls == len(rows), "a UIDL without its message, or a message without its UIDL"
    return dict(rows)


def check_nothing_lost(
    originals: dict[str, bytes], user: MailUser, data_dir: Path
) -> dict[str, bytes]:
    """Every message gone from the server is in the store, byte for byte; returns the store's."""
    stored = in_store(data_dir)  # integrity_check, no duplicates, one UIDL per message
    gone = set(originals) - user.message_ids_in_inbox()
    assert gone <= set(stored), (
        f"deleted on the server but not stored: {sorted(gone - set(stored))}"
    )
    for message_id, raw in stored.items():
        assert raw == originals[message_id]
    return stored


def finish(
    table: dict[str, object], originals: dict[str, bytes], user: MailUser, data_dir: Path
) -> None:
    assert run_worker(table, data_dir, "none").returncode == 0
    assert in_store(data_dir) == originals
    assert user.message_ids_in_inbox() == set()


def mailbox(dovecot: Dovecot, user: MailUser, seed: int, count: int = COUNT) -> dict[str, bytes]:
    messages = list(generate(count, seed=seed, malformed_every=0))
    dovecot.deliver(user, [m.raw for m in messages])
    return {m.message_id: m.raw for m in messages}


POINTS = [
    "before_commit:1",
    "before_commit:3",
    "after_commit:1",
    "after_commit:4",
    "before_dele:1",
    "after_dele:1",
    "after_quit:1",
]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("spec", POINTS)
def test_kill_at_a_named_point_loses_and_duplicates_nothing(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path, spec: str
) -> None:
    originals = mailbox(dovecot, mail_user, seed=100 + POINTS.index(spec))
    table = pop3_table(dovecot, mail_user, leave_on_server=False)
    assert run_worker(table, tmp_path, spec).returncode == -9
    check_nothing_lost(originals, mail_user, tmp_path)
    finish(table, originals, mail_user, tmp_path)


@pytest.mark.timeout(600)
def test_repeated_kills_at_random_moments_then_a_clean_run(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    originals = mailbox(dovecot, mail_user, seed=200, count=240)
    table = pop3_table(dovecot, mail_user, leave_on_server=False)
    # Time one whole download of a copy of the mailbox, to aim the kills inside a download.
    probe_user = dovecot.add_user()
    dovecot.deliver(probe_user, list(originals.values()))
    probe = run_worker(pop3_table(dovecot, probe_user), tmp_path / "probe", "none")
    full_ms = int(probe.stdout.split("elapsed_ms=")[1])
    rng = random.Random(1234)
    kills = 0
    # Each run gets a slice of the download before it dies, so the kills walk through RETRs,
    # commits, DELEs and QUIT of a mailbox that shrinks as the runs go on.
    # A run that ends before its kill (the machine was faster than the probe) narrows the
    # window of the next ones, so that most runs die whatever the machine's load.
    window = max(2, full_ms // 4)
    for _ in range(16):
        if run_worker(table, tmp_path, f"timer:{rng.randint(1, window)}").returncode == -9:
            kills += 1
        else:
            window = max(2, window // 2)
        check_nothing_lost(originals, mail_user, tmp_path)
    assert kills >= 8, f"only {kills} of 16 runs were killed"
    finish(table, originals, mail_user, tmp_path)
