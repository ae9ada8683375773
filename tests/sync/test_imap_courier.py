"""IMAP sync against a private Courier-IMAP: no CONDSTORE, QRESYNC, ESEARCH or SPECIAL-USE,
"." as the delimiter, and a UIDVALIDITY that changes at every EXAMINE of a folder no client
has SELECTed yet (Courier keeps a folder's UID list only once it is opened read-write)."""

from __future__ import annotations

import imaplib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.harness.accounts import account
from tests.harness.courier import Courier, imap_table
from tests.harness.dovecot import MailUser
from tests.sync.test_imap_sync import store_state, uid_flags
from tuimail.config import AccountConfig
from tuimail.demo.mailbox import generate
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.imap_sync import sync_imap_account

ARCHIVE = "INBOX.Archive"


@contextmanager
def other_client(
    courier: Courier, user: MailUser, folder: str = "INBOX"
) -> Iterator[imaplib.IMAP4]:
    imap = imaplib.IMAP4(courier.host, courier.imap_port)
    imap.login(user.name, user.password)
    imap.select(folder)
    try:
        yield imap
    finally:
        imap.logout()


def server_state(
    courier: Courier, user: MailUser, folder: str = "INBOX"
) -> dict[int, frozenset[str]]:
    with other_client(courier, user, folder) as imap:
        return uid_flags(imap)


async def stored_ids(store: Store, folder: str = "INBOX") -> list[int]:
    async with store.session() as session:
        state = await queries.folder_by_name(session, "x", folder)
        return await queries.folder_message_ids(session, state.id)


def fill(
    courier: Courier, user: MailUser, count: int, folder: str = "INBOX", seed: int = 1
) -> None:
    courier.deliver(user, [m.raw for m in generate(count, seed=seed)], folder)


def config(courier: Courier, user: MailUser) -> AccountConfig:
    return account(imap_table(courier, user))


def next_clock_second() -> None:
    """Wait for the wall clock to turn a second: Courier's stand-in UIDVALIDITY for a folder
    without a UID list is the current time, so the clock is the event this waits on."""
    now = time.time()
    time.sleep(int(now) + 1 - now)


async def test_a_full_sync_of_courier_mirrors_inbox_and_its_dot_separated_subfolder(
    store: Store, courier: Courier, courier_user: MailUser
) -> None:
    fill(courier, courier_user, 30)
    fill(courier, courier_user, 12, ARCHIVE, seed=2)
    summary = await sync_imap_account(store, "x", config(courier, courier_user))
    assert summary.startswith("42 new, 0 flag changes, 0 removed in 2 folders")
    assert await store_state(store) == server_state(courier, courier_user)
    assert await store_state(store, ARCHIVE) == server_state(courier, courier_user, ARCHIVE)


async def test_a_second_sync_with_nothing_changed_on_courier_downloads_nothing_again(
    store: Store, courier: Courier, courier_user: MailUser
) -> None:
    fill(courier, courier_user, 40)
    fill(courier, courier_user, 10, ARCHIVE, seed=2)
    cfg = config(courier, courier_user)
    await sync_imap_account(store, "x", cfg)
    before = (await stored_ids(store), await stored_ids(store, ARCHIVE))
    for _ in range(2):
        next_clock_second()
        summary = await sync_imap_account(store, "x", cfg)
        assert summary.startswith("0 new, 0 flag changes, 0 removed"), summary
    # The same rows: the cache was kept, not dropped and downloaded again.
    assert (await stored_ids(store), await stored_ids(store, ARCHIVE)) == before


async def test_flag_changes_new_mail_and_expunges_on_courier_are_picked_up(
    store: Store, courier: Courier, courier_user: MailUser
) -> None:
    fill(courier, courier_user, 20)
    fill(courier, courier_user, 5, ARCHIVE, seed=2)
    cfg = config(courier, courier_user)
    await sync_imap_account(store, "x", cfg)
    next_clock_second()
    with other_client(courier, courier_user) as imap:
        imap.uid("STORE", "1:3", "+FLAGS", "(\\Seen \\Flagged)")
        imap.uid("STORE", "7", "+FLAGS", "(\\Deleted)")
        imap.expunge()
    fill(courier, courier_user, 2, seed=3)
    summary = await sync_imap_account(store, "x", cfg)
    assert summary.startswith("2 new, 3 flag changes, 1 removed"), summary
    assert await store_state(store) == server_state(courier, courier_user)
    assert await store_state(store, ARCHIVE) == server_state(courier, courier_user, ARCHIVE)
