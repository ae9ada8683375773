"""SIGKILL a bulk move of 2000 messages, made the way the interface makes it (StoreMailService
action, then the action replay of the next sync), at every step and at random moments: the store
stays intact, and after the next sync each message is in exactly one place, on the server and in
the store alike."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from tests.harness.accounts import imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.reliability.crash_checks import (
    ServerState,
    assert_store_matches_server,
    assert_stored_rows_are_the_servers,
    check_store,
    server_folders,
    wait_until_logged_out,
)
from tests.reliability.crash_workers import ForkServer, WorkerRuns
from tuimail.demo.mailbox import generate

WORKER = "tests.reliability.crash_bulk_move_worker"
COUNT = 2000
FOLDERS = ("INBOX", "Archive")
RANDOM_KILLS = 4


class Mover(WorkerRuns):
    """Moves every message from one folder to the other, round after round, one kill each."""

    def __init__(
        self, workers: ForkServer, dovecot: Dovecot, user: MailUser, store: Path, ids: set[str]
    ) -> None:
        table = imap_table(dovecot, user)
        super().__init__(workers, WORKER, {"table": table, "store": str(store), "batch": 500})
        self.dovecot = dovecot
        self.user = user
        self.store = store
        self.ids = ids
        self.missing_after_kills = 0  # messages the store did not show until the next sync

    def round(self, kill: str = "none", every: int = 1, kill_after: float | None = None) -> bool:
        """One bulk move from the fuller folder to the other; True if it was killed."""
        folders = check_store(self.store).folders
        source, target = sorted(FOLDERS, key=lambda f: -len(folders.get(f, {})))
        move = {"source": source, "target": target, "every": every}
        killed = self.run(kill, kill_after, move=move).killed
        if killed:
            self.check_after_kill()
        self.finish()
        return killed

    def check_after_kill(self) -> None:
        wait_until_logged_out(self.dovecot, self.user)
        stored = check_store(self.store)
        server = server_folders(self.dovecot, self.user)
        self.assert_once_on_server(server)
        assert_stored_rows_are_the_servers(stored, server)
        seen = stored.message_ids()
        assert [i for i, n in seen.items() if n > 1] == [], "a message shown twice"
        self.missing_after_kills += len(self.ids - set(seen))

    def finish(self) -> None:
        assert self.run().completed
        server = server_folders(self.dovecot, self.user)
        self.assert_once_on_server(server)
        assert_store_matches_server(check_store(self.store), server)

    def assert_once_on_server(self, server: ServerState) -> None:
        found = Counter(m.message_id for f in FOLDERS for m in server[f].values())
        assert set(found) == self.ids, f"lost on the server: {sorted(self.ids - set(found))[:5]}"
        assert max(found.values()) == 1, "a message is on the server twice"


NAMED = [
    ("in_move:1", 1),
    ("before_replay:1", 1),
    ("before_server_move:1", 1),
    ("between_chunks:1", 2),  # every second UID: a selection too scattered for one command
    ("after_server_move:1", 1),
    ("after_replay:1", 1),
    ("in_drop:1", 1),
    ("batch:1", 1),
]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_bulk_move_killed_at_any_step_leaves_each_message_in_exactly_one_place(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    mails = list(generate(COUNT, seed=21, malformed_every=0))
    dovecot.deliver(mail_user, [m.raw for m in mails[: COUNT // 2]])
    dovecot.deliver(mail_user, [m.raw for m in mails[COUNT // 2 :]], seen=True)
    ids = {m.message_id for m in mails}
    rng = random.Random(4242)
    with ForkServer(WORKER, "alembic.command") as workers:
        mover = Mover(workers, dovecot, mail_user, tmp_path / "mail.sqlite3", ids)
        mover.finish()  # the first sync
        assert len(check_store(mover.store).folders["INBOX"]) == COUNT
        mover.round()  # a clean bulk move says how long one takes here
        clean = mover.longest
        for point, every in NAMED:
            assert mover.round(point, every), point
        named = mover.kills
        attempts = 0
        while mover.kills < named + RANDOM_KILLS:  # a move that ended first does not count
            attempts += 1
            assert attempts <= 2 * RANDOM_KILLS, f"{mover.kills - named} of {attempts} killed"
            mover.round(kill_after=rng.uniform(0.0, clean))
    print(
        f"bulk move: {mover.kills} kills survived ({RANDOM_KILLS} at random moments), "
        f"0 lost, 0 duplicated; the store did not show {mover.missing_after_kills} messages "
        "(summed over kills) between a kill and the next sync"
    )


@pytest.mark.timeout(60)
def test_moved_messages_stay_visible_when_the_sync_that_fetches_them_is_killed(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    mails = list(generate(300, seed=22, malformed_every=0))
    dovecot.deliver(mail_user, [m.raw for m in mails])
    ids = {m.message_id for m in mails}
    with ForkServer(WORKER, "alembic.command") as workers:
        mover = Mover(workers, dovecot, mail_user, tmp_path / "mail.sqlite3", ids)
        mover.finish()
        move = {"source": "INBOX", "target": "Archive", "every": 1}
        assert mover.run("batch:1", move=move, batch=100).killed
    shown = check_store(mover.store).message_ids()
    assert set(shown) == ids, f"{len(ids - set(shown))} of 300 moved messages are not shown"
