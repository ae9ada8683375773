"""The offline action queue against the private Dovecot: a queued action lands on the messages
the user chose, or on none at all."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import text

from tests.harness.dovecot import Dovecot, MailUser
from tests.sync.test_imap_sync import config, fill, other_client, server_state, store_state
from tuimail.store import action_queries, queries
from tuimail.store.db import Store
from tuimail.sync import actions
from tuimail.sync.imap_sync import sync_imap_account


def rebuild_uidvalidity(user: MailUser, folder: str = "INBOX") -> None:
    """What a server migration does: same messages, new UIDVALIDITY, UIDs handed out anew.

    Dovecot's uid list is rewritten with the next UIDVALIDITY and its indexes dropped, while no
    session holds the folder (every sync here ends with LOGOUT).
    """
    base = user.maildir if folder == "INBOX" else user.maildir / f".{folder}"
    header = (base / "dovecot-uidlist").read_text().split("\n", 1)[0]
    old = int(next(f for f in header.split() if f.startswith("V"))[1:])
    for leftover in base.glob("dovecot*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    for sub in ("cur", "new"):
        for path in (base / sub).iterdir():
            path.rename(base / "new" / path.name.split(":")[0])
    (base / "dovecot-uidlist").write_text(f"3 V{old + 1} N1 G{uuid.uuid4().hex}\n")
    os.chown(base / "dovecot-uidlist", base.stat().st_uid, base.stat().st_gid)


def server_uidvalidity(dovecot: Dovecot, user: MailUser, folder: str = "INBOX") -> int:
    with other_client(dovecot, user, folder) as imap:
        _status, data = imap.status(folder, "(UIDVALIDITY)")
    return int(data[0].decode().split("UIDVALIDITY ")[1].rstrip(")"))


async def pending(store: Store) -> int:
    async with store.session() as session:
        found = await session.execute(text("SELECT count(*) FROM pending_actions"))
        return int(found.scalar_one())


async def test_actions_queued_before_a_uidvalidity_change_are_dropped_and_touch_nothing(
    store: Store, dovecot: Dovecot, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    fill(dovecot, mail_user, 6)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    before = server_uidvalidity(dovecot, mail_user)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        archive = await queries.folder_by_name(session, "x", "Archive")
        ids = await queries.folder_message_ids(session, inbox.id)
    # Offline: flag two, move one, delete one (to Trash).
    await actions.set_flags(store, ids[:2], add=frozenset({"\\Flagged"}))
    await actions.move(store, ids[2:3], archive.id)
    await actions.delete(store, ids[3:4])
    rebuild_uidvalidity(mail_user)  # meanwhile the server renumbers the folder
    assert server_uidvalidity(dovecot, mail_user) != before
    summary = await sync_imap_account(store, "x", cfg)
    server = server_state(dovecot, mail_user)
    assert len(server) == 6, "a queued move or delete took a message it was not meant for"
    assert not any("\\Flagged" in flags for flags in server.values())
    assert server_state(dovecot, mail_user, "Archive") == {}
    assert server_state(dovecot, mail_user, "Trash") == {}
    assert "3 queued changes dropped" in summary
    assert "UIDVALIDITY" in caplog.text
    assert await pending(store) == 0
    assert await store_state(store) == server  # the store shows what the server has


async def test_an_action_queued_by_an_older_version_is_checked_against_the_stored_folder(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    # Queued before UIDVALIDITY was recorded with each action: the folder's stored value is
    # what its UIDs were read under.
    fill(dovecot, mail_user, 3)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        account_pk = inbox.account_id
        uids = sorted(await queries.folder_uids(session, inbox.id))
        await action_queries.queue_action(
            session, account_pk, inbox.id, "flags", {"uids": uids[:1], "add": ["\\Flagged"]}
        )
    await sync_imap_account(store, "x", cfg)
    assert "\\Flagged" in server_state(dovecot, mail_user)[uids[0]]  # same folder: applied
    async with store.session() as session:
        await action_queries.queue_action(
            session, account_pk, inbox.id, "expunge", {"uids": uids[1:2]}
        )
    rebuild_uidvalidity(mail_user)
    summary = await sync_imap_account(store, "x", cfg)
    assert len(server_state(dovecot, mail_user)) == 3 and "1 queued change dropped" in summary


async def test_an_action_queued_before_the_folder_had_a_uidvalidity_is_dropped(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    # Its UIDs came from a pass that never learnt under which UIDVALIDITY: not to be trusted.
    fill(dovecot, mail_user, 2)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        uids = sorted(await queries.folder_uids(session, inbox.id))
        await action_queries.queue_action(
            session, inbox.account_id, inbox.id, "expunge", {"uids": uids, "uidvalidity": None}
        )
    summary = await sync_imap_account(store, "x", cfg)
    assert len(server_state(dovecot, mail_user)) == 2 and "1 queued change dropped" in summary
