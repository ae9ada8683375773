"""SIGKILL ``offline = "full"`` while it downloads bodies: the store stays intact and holds whole
bodies of the server's messages only, committed batches are kept, and the next sync downloads
the rest; every stored body waits for (or has had) its search indexing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.harness.accounts import imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.reliability.crash_checks import check_store
from tests.reliability.crash_workers import ForkServer, WorkerRuns
from tuimail.demo.mailbox import generate

WORKER = "tests.reliability.crash_imap_sync_worker"
BODY_BATCH = 100  # 600 messages: six body commits, so a kill lands inside the third


def stored_bodies(store: Path) -> dict[str, bytes]:
    """Message-ID -> stored bytes; every stored body must be listed for (or done with) indexing."""
    db = sqlite3.connect(store)
    try:
        rows = db.execute(
            "SELECT m.message_id, b.raw FROM message_bodies b "
            "JOIN messages m ON m.id = b.message_pk"
        ).fetchall()
        waiting = db.execute("SELECT count(*) FROM body_pending").fetchone()[0]
    finally:
        db.close()
    assert waiting == len(rows)  # nothing indexed them yet: sync_account does not index
    return {str(message_id): bytes(raw) for message_id, raw in rows}


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_download_killed_inside_a_batch_keeps_the_committed_ones_and_resumes(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    mails = {m.message_id: m.raw for m in generate(600, seed=21, malformed_every=0)}
    dovecot.deliver(mail_user, list(mails.values()))
    store = tmp_path / "mail.sqlite3"
    table = {**imap_table(dovecot, mail_user), "offline": "full"}
    args = {"table": table, "store": str(store), "batch": 5000, "body_batch": BODY_BATCH}
    with ForkServer(WORKER, "alembic.command") as workers:
        runs = WorkerRuns(workers, WORKER, args)
        assert runs.run("in_bodies:3").killed
        check_store(store)
        kept = stored_bodies(store)
        # Two commits were made, each of one batch or of those that queued up behind it, and
        # the third was killed before it committed: whole batches only, not all of them.
        assert len(kept) % BODY_BATCH == 0 and 2 * BODY_BATCH <= len(kept) < len(mails)
        assert all(
            raw.replace(b"\r\n", b"\n") == mails[mid].replace(b"\r\n", b"\n")
            for mid, raw in kept.items()
        )
        assert runs.run().completed
    after = stored_bodies(store)
    assert sorted(after) == sorted(mails), f"{len(after)} of {len(mails)} bodies"
