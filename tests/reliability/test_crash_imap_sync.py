"""SIGKILL an IMAP sync of a few thousand messages at many points, named and random: after every
kill the store is intact and holds only the server's messages under their uids, and the next
completed run leaves the store equal to the server (uids, messages, flags)."""

from __future__ import annotations

import imaplib
import random
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.accounts import imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.reliability.crash_checks import (
    ServerState,
    assert_store_matches_server,
    assert_stored_rows_are_the_servers,
    check_store,
    copy_store,
    empty_store,
    server_folders,
)
from tests.reliability.crash_workers import ForkServer, WorkerRuns
from tuimail.demo.mailbox import generate

WORKER = "tests.reliability.crash_imap_sync_worker"
BATCH = 200  # 3000 messages in INBOX: 15 commits, so named kills land between and inside them


class Runs(WorkerRuns):
    """Syncs one store of the test account and checks it after each kill."""

    def __init__(self, workers: ForkServer, dovecot: Dovecot, user: MailUser, store: Path) -> None:
        super().__init__(workers, WORKER, {"table": imap_table(dovecot, user), "batch": BATCH})
        self.store = store
        self.args["store"] = str(store)

    def check(self, server: ServerState) -> None:
        assert_stored_rows_are_the_servers(check_store(self.store), server)

    def finish(self, server: ServerState) -> None:
        assert self.run().completed
        assert_store_matches_server(check_store(self.store), server)


def merged(*states: ServerState) -> ServerState:
    """Server states before and after a change: a stored row may still show either."""
    result: ServerState = {}
    for state in states:
        for folder, mails in state.items():
            result.setdefault(folder, {}).update(mails)
    return result


def change_the_server(dovecot: Dovecot, user: MailUser) -> None:
    """What other clients do meanwhile: flag, unflag, expunge, and new mail in two folders."""
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as imap:
        imap.login(user.name, user.password)
        imap.select("INBOX")
        imap.uid("STORE", "1:300", "+FLAGS", "(\\Flagged $Work)")
        imap.uid("STORE", "1501:1700", "-FLAGS", "(\\Seen)")
        imap.uid("STORE", "2001:2150", "+FLAGS", "(\\Deleted)")
        imap.uid("EXPUNGE", "2001:2150")
        imap.logout()
    fresh = [m.raw for m in generate(250, seed=12, malformed_every=0, domain="new.example.org")]
    dovecot.deliver(user, fresh[:200])
    dovecot.deliver(user, fresh[200:], folder="Archive")


def mailbox(dovecot: Dovecot, user: MailUser) -> ServerState:
    """3000 messages in INBOX (half of them seen) and 300 in Archive; the server's view."""
    mails = [m.raw for m in generate(3300, seed=11, malformed_every=0)]
    dovecot.deliver(user, mails[:1500])
    dovecot.deliver(user, mails[1500:3000], seen=True)
    dovecot.deliver(user, mails[3000:], folder="Archive")
    state = server_folders(dovecot, user)
    assert sum(len(m) for m in state.values()) == 3300
    return state


def assert_each_message_once(state: ServerState) -> None:
    ids = [m.message_id for folder in state.values() for m in folder.values()]
    assert len(ids) == len(set(ids)) == 3300 - 150 + 250


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sync_killed_at_each_named_point_resumes_without_loss_or_duplicates(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    before = mailbox(dovecot, mail_user)
    with ForkServer(WORKER, "alembic.command") as workers:
        runs = Runs(workers, dovecot, mail_user, tmp_path / "mail.sqlite3")
        # The first sync into an empty store: between commits, inside one, before a folder's
        # state is saved, and inside the second folder's first commit.
        for point in ("batch:2", "in_batch:3", "batch:5", "before_state:1", "in_batch:1"):
            assert runs.run(point).killed, point
            runs.check(before)
        runs.finish(before)
        # An incremental (QRESYNC) sync after other clients changed the server.
        change_the_server(dovecot, mail_user)
        after = server_folders(dovecot, mail_user)
        for point in ("in_expunge:1", "in_flags:1", "batch:1"):
            assert runs.run(point).killed, point
            runs.check(merged(before, after))
        runs.finish(after)
    assert_each_message_once(after)
    print(f"imap sync, named points: {runs.kills} kills survived, 0 lost, 0 duplicated")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sync_killed_at_random_moments_resumes_without_loss_or_duplicates(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    before = mailbox(dovecot, mail_user)
    rng = random.Random(20260110)
    with ForkServer(WORKER, "alembic.command") as workers:

        def kill_until(
            count: int, fresh: Callable[[int], Path], clean: float, *states: ServerState
        ) -> int:
            """Kill syncs of fresh stores at random moments of the first 80 % of a ``clean``
            run until ``count`` kills landed inside a run; check what each left, then run it to
            the end. Returns the runs it took."""
            kills = attempts = 0
            while kills < count:
                attempts += 1
                assert attempts <= 2 * count, f"only {kills} of {attempts} runs were killed"
                runs = Runs(workers, dovecot, mail_user, fresh(attempts))
                if runs.run(kill_after=rng.uniform(0.0, 0.8 * clean)).killed:
                    kills += 1
                    runs.check(merged(*states))
                    runs.finish(states[-1])
            return attempts

        # A clean first sync says how long one takes here. Each kill hits a fresh store: login,
        # folder list, fetches, commits (a kill while the schema is created is the test below).
        first = Runs(workers, dovecot, mail_user, empty_store(tmp_path / "first"))
        first.finish(before)

        def new_store(n: int) -> Path:
            return empty_store(tmp_path / f"first{n}")

        runs = kill_until(6, new_store, first.longest, before)
        # An incremental (QRESYNC) sync after other clients changed the server, each time from
        # a copy of the store as it was before the change.
        change_the_server(dovecot, mail_user)
        after = server_folders(dovecot, mail_user)
        again = Runs(workers, dovecot, mail_user, copy_store(first.store, tmp_path / "again"))
        again.finish(after)

        def store_before_the_change(n: int) -> Path:
            return copy_store(first.store, tmp_path / f"again{n}")

        runs += kill_until(3, store_before_the_change, again.longest, before, after)
    assert_each_message_once(after)
    print(f"imap sync, random moments: 9 kills in {runs} runs survived, 0 lost, 0 duplicated")


@pytest.mark.timeout(60)
def test_a_sync_killed_while_the_store_is_created_works_on_the_next_start(
    dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(20, seed=13, malformed_every=0)])
    with ForkServer(WORKER, "alembic.command") as workers:
        runs = Runs(workers, dovecot, mail_user, tmp_path / "mail.sqlite3")
        assert runs.run("in_schema:3").killed
        runs.finish(server_folders(dovecot, mail_user))
