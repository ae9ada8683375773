"""`tuimail sync` with nothing new answers from the store and one LIST-STATUS, without the ORM;
any change, on the server or waiting in the store, takes the full pass, which picks it up.

Each sync runs as a whole process, as a user starts it; whether the ORM was imported tells
which path answered (only the full pass imports it).
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.accounts import config as loaded_config
from tests.harness.accounts import imap_table, pop3_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.sync.test_actions import rebuild_uidvalidity
from tests.sync.test_imap_sync import other_client
from tuimail.demo.mailbox import generate
from tuimail.store import action_queries, queries
from tuimail.store.db import Store, open_store
from tuimail.sync.accounts import sync_all

pytestmark = pytest.mark.timeout(120)

# The command as `tuimail` runs it, then one line saying whether SQLAlchemy and the config
# models (pydantic) were imported.
CHILD = """
import sys
from tuimail.cli import main
try:
    main.main(sys.argv[1:], prog_name="tuimail")
finally:
    sys.stderr.write(
        "\\nORM imported: %s %s\\n" % ("sqlalchemy" in sys.modules, "pydantic" in sys.modules)
    )
"""
SUMMARY = re.compile(r"^work: (\d+) new, (\d+) flag changes, (\d+) removed in (\d+) folders$")


@dataclass(frozen=True)
class SyncRun:
    stdout: str
    errors: str  # stderr without the child's last line
    status: int
    orm_imported: bool
    models_imported: bool

    @property
    def counts(self) -> tuple[int, int, int, int]:
        """new, flag changes, removed, folders: from the summary line of account "work"."""
        found = SUMMARY.match(self.stdout.strip())
        assert found is not None, (self.stdout, self.errors)
        new, flags, gone, folders = (int(x) for x in found.groups())
        return new, flags, gone, folders


def run_sync(config: Path) -> SyncRun:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "--config", str(config), "sync"],
        capture_output=True,
        text=True,
        timeout=90,
        env=os.environ,
    )
    errors, _, last = done.stderr.rstrip("\n").rpartition("\n")
    assert last.startswith("ORM imported: "), done.stderr
    orm, models = last.removeprefix("ORM imported: ").split()
    return SyncRun(done.stdout, errors, done.returncode, orm == "True", models == "True")


@dataclass
class Account:
    dovecot: Dovecot
    user: MailUser
    config: Path
    data_dir: Path
    folders: int  # as the first sync counted them

    @contextmanager
    def imap(self) -> Iterator[imaplib.IMAP4_SSL]:
        """Another client of the same mailbox (another device of the user), in INBOX."""
        with other_client(self.dovecot, self.user) as imap:
            yield imap

    def in_store(self, work: Callable[[Store], Awaitable[None]]) -> None:
        """Change the store as the interface would, then close it again (it is locked)."""

        async def opened() -> None:
            store = await open_store(self.data_dir / "mail.sqlite3")
            try:
                await work(store)
            finally:
                await store.close()

        asyncio.run(opened())


@pytest.fixture
def synced(tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser) -> Account:
    """An IMAP account with five messages, after one full sync."""
    dovecot.deliver(mail_user, [m.raw for m in generate(5, seed=4, malformed_every=0)])
    config = write_config(tmp_path / "config.toml", work=imap_table(dovecot, mail_user))
    first = run_sync(config)
    assert first.status == 0 and first.orm_imported, first.errors
    new, flags, gone, folders = first.counts
    assert (new, flags, gone) == (5, 0, 0)
    return Account(dovecot, mail_user, config, data_dir, folders)


def test_sync_with_nothing_new_prints_the_same_summary_without_loading_the_orm(
    synced: Account,
) -> None:
    again = run_sync(synced.config)
    assert again.status == 0, again.errors
    assert again.stdout == f"work: 0 new, 0 flag changes, 0 removed in {synced.folders} folders\n"
    assert not again.orm_imported, "an unchanged account loaded the sync machinery"
    assert not again.models_imported, "a plainly valid config file loaded the config models"


def _append(account: Account) -> None:
    with account.imap() as imap:
        imap.append("INBOX", None, None, next(generate(1, seed=9, malformed_every=0)).raw)


def _flag(account: Account) -> None:
    with account.imap() as imap:
        imap.store("1", "+FLAGS", "(\\Flagged)")


def _expunge(account: Account) -> None:
    with account.imap() as imap:
        imap.store("2", "+FLAGS", "(\\Deleted)")
        imap.expunge()


def _create_folder(account: Account) -> None:
    with account.imap() as imap:
        status, _ = imap.create("Projects")
        assert status == "OK"


def _renumber(account: Account) -> None:
    rebuild_uidvalidity(account.user)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_append, lambda folders: (1, 0, 0, folders)),
        (_flag, lambda folders: (0, 1, 0, folders)),
        (_expunge, lambda folders: (0, 0, 1, folders)),
        (_create_folder, lambda folders: (0, 0, 0, folders + 1)),
        (_renumber, lambda folders: (5, 0, 0, folders)),
    ],
    ids=["appended", "flagged", "expunged", "folder-created", "uidvalidity-changed"],
)
def test_a_change_made_on_the_server_is_picked_up_by_the_full_sync(
    synced: Account,
    change: Callable[[Account], None],
    expected: Callable[[int], tuple[int, int, int, int]],
) -> None:
    change(synced)
    seen = run_sync(synced.config)
    assert seen.status == 0, seen.errors
    assert seen.orm_imported, "a change on the server was answered with 'nothing new'"
    assert seen.counts == expected(synced.folders)
    settled = run_sync(synced.config)
    assert not settled.orm_imported, "the full pass left a state the next check cannot trust"
    assert settled.counts == (0, 0, 0, expected(synced.folders)[3])


def test_a_flag_change_queued_offline_reaches_the_server(synced: Account) -> None:
    uid: list[int] = []

    async def queue_flag(store: Store) -> None:
        async with store.session() as session:
            inbox = await queries.folder_by_name(session, "work", "INBOX")
            uid.append(min(await queries.folder_uids(session, inbox.id)))
            await action_queries.queue_action(
                session, inbox.account_id, inbox.id, "flags", {"uids": uid, "add": ["\\Flagged"]}
            )

    synced.in_store(queue_flag)
    replayed = run_sync(synced.config)
    assert replayed.status == 0 and replayed.orm_imported, replayed.errors
    with synced.imap() as imap:
        _status, data = imap.uid("FETCH", str(uid[0]), "(FLAGS)")
    assert b"\\Flagged" in b" ".join(x for x in data if isinstance(x, bytes))


def test_messages_waiting_for_the_search_index_are_indexed(synced: Account) -> None:
    store_file = synced.data_dir / "mail.sqlite3"
    with sqlite3.connect(store_file) as db:
        first, last = db.execute("SELECT min(id), max(id) FROM messages").fetchone()
        db.execute("DELETE FROM messages_fts")
        db.execute("INSERT INTO fts_pending (first_id, last_id) VALUES (?, ?)", (first, last))
    indexed = run_sync(synced.config)
    assert indexed.status == 0 and indexed.orm_imported, indexed.errors
    with sqlite3.connect(store_file) as db:
        waiting, found = db.execute(
            "SELECT (SELECT count(*) FROM fts_pending), (SELECT count(*) FROM messages_fts)"
        ).fetchone()
    assert (waiting, found) == (0, 5)


def test_switching_to_offline_full_downloads_the_bodies(
    synced: Account, tmp_path: Path, mail_user: MailUser
) -> None:
    table = {**imap_table(synced.dovecot, mail_user), "offline": "full"}
    full = write_config(tmp_path / "full.toml", work=table)
    downloaded = run_sync(full)
    assert downloaded.status == 0 and downloaded.orm_imported, downloaded.errors
    with sqlite3.connect(synced.data_dir / "mail.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM message_bodies").fetchone() == (5,)
    assert not run_sync(full).orm_imported, "every body is there: nothing left to do"


def test_a_server_without_condstore_always_gets_the_full_sync(
    tmp_path: Path, data_dir: Path, plain_dovecot: Dovecot, plain_user: MailUser
) -> None:
    plain_dovecot.deliver(plain_user, [m.raw for m in generate(3, seed=5, malformed_every=0)])
    config = write_config(tmp_path / "config.toml", work=imap_table(plain_dovecot, plain_user))
    assert run_sync(config).counts[0] == 3
    with other_client(plain_dovecot, plain_user) as imap:
        imap.store("1", "+FLAGS", "(\\Flagged)")
    again = run_sync(config)
    assert again.orm_imported, "without CONDSTORE a flag change cannot be seen from STATUS"
    assert again.counts[:3] == (0, 1, 0)


def test_a_pop3_account_beside_it_gets_the_full_sync(
    synced: Account, tmp_path: Path, mail_user: MailUser
) -> None:
    both = write_config(
        tmp_path / "both.toml",
        work=imap_table(synced.dovecot, mail_user),
        home=pop3_table(synced.dovecot, mail_user),
    )
    done = run_sync(both)
    assert done.status == 0 and done.orm_imported, done.errors


def test_a_wrong_password_is_the_same_one_line_error_as_the_full_sync(
    synced: Account, tmp_path: Path, mail_user: MailUser
) -> None:
    table = imap_table(synced.dovecot, mail_user, password="wrong")
    wrong = write_config(tmp_path / "wrong.toml", work=table)

    async def full_pass(store: Store) -> None:
        outcomes = await sync_all(store, loaded_config(work=table))
        expected.append(outcomes[0].summary)

    expected: list[str] = []
    synced.in_store(full_pass)
    refused = run_sync(wrong)
    assert refused.status == 1 and refused.stdout == ""
    assert refused.errors.splitlines()[-1] == f"tuimail: work: {expected[0]}"
