"""IMAP sync against the private Dovecot: the store ends as the server is, whatever happened."""

from __future__ import annotations

import asyncio
import imaplib
import itertools
import shutil
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.config import AccountConfig
from tuimail.demo.mailbox import generate
from tuimail.errors import ConnectionLost
from tuimail.protocols.imap import ImapClient
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState
from tuimail.sync import actions, imap_sync
from tuimail.sync.imap_connect import connect
from tuimail.sync.imap_sync import sync_imap_account


@contextmanager
def other_client(
    dovecot: Dovecot, user: MailUser, folder: str = "INBOX"
) -> Iterator[imaplib.IMAP4_SSL]:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    imap = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    imap.login(user.name, user.password)
    imap.select(folder)
    try:
        yield imap
    finally:
        imap.logout()


def server_state(
    dovecot: Dovecot, user: MailUser, folder: str = "INBOX"
) -> dict[int, frozenset[str]]:
    with other_client(dovecot, user, folder) as imap:
        return uid_flags(imap)


def uid_flags(imap: imaplib.IMAP4) -> dict[int, frozenset[str]]:
    """The flags of each message in the selected folder by UID (\\Recent aside: per session)."""
    _status, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
    result = {}
    for line in data:
        if isinstance(line, bytes):
            uid = int(line.split(b"UID ")[1].split()[0].rstrip(b")"))
            flags = frozenset(f.decode() for f in imaplib.ParseFlags(line))
            result[uid] = flags - {"\\Recent"}
    return result


async def store_state(store: Store, folder: str = "INBOX") -> dict[int, frozenset[str]]:
    async with store.session() as session:
        state = await queries.folder_by_name(session, "x", folder)
        rows = await queries.list_messages(session, state.id)
    uids = [r.uid for r in rows]
    assert len(uids) == len(set(uids)), "a message is stored twice"
    return {r.uid: r.flags for r in rows if r.uid is not None}


def fill(dovecot: Dovecot, user: MailUser, count: int, seed: int = 1) -> list[str]:
    messages = list(generate(count, seed=seed))
    dovecot.deliver(user, [m.raw for m in messages])
    return [m.message_id for m in messages]


def config(dovecot: Dovecot, user: MailUser, **extra: Any) -> AccountConfig:
    return account(imap_table(dovecot, user, **extra))


def drop_mid_fetch(monkeypatch: pytest.MonkeyPatch, fetch: int, record: int) -> Callable[[], None]:
    """Lose the connection at the ``record``-th record of the ``fetch``-th header FETCH, the
    records handed over one at a time; returns what puts the real FETCH back."""
    original = ImapClient.fetch_parsed_groups
    calls = 0

    async def dropping(
        self: ImapClient, uid_range: str, parser: Any, changedsince: int | None = None
    ) -> Any:
        nonlocal calls
        calls += 1
        count = 0
        async for group in original(self, uid_range, parser, changedsince):
            for one in group:
                count += 1
                if (calls, count) == (fetch, record):
                    await self.close()  # the network goes away in the middle of a FETCH
                    raise ConnectionLost("the connection dropped in the middle of a FETCH")
                yield [one]

    monkeypatch.setattr(ImapClient, "fetch_parsed_groups", dropping)
    return lambda: monkeypatch.setattr(ImapClient, "fetch_parsed_groups", original)


async def synced_inbox(
    store: Store, dovecot: Dovecot, user: MailUser, count: int
) -> tuple[AccountConfig, FolderState, FolderState, list[int]]:
    """``count`` messages delivered and synced: the config, INBOX, Archive and INBOX's ids."""
    fill(dovecot, user, count)
    cfg = config(dovecot, user)
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        archive = await queries.folder_by_name(session, "x", "Archive")
        ids = await queries.folder_message_ids(session, inbox.id)
    return cfg, inbox, archive, ids


async def test_cold_sync_stores_every_header_and_the_folder_roles(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    ids = fill(dovecot, mail_user, 120)
    summary = await sync_imap_account(store, "x", config(dovecot, mail_user))
    assert summary.startswith("120 new, 0 flag changes, 0 removed in 6 folders")
    async with store.session() as session:
        folders = await queries.folders(session, await queries.account_id(session, "x"))
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        rows = await queries.list_messages(session, inbox.id)
    assert [f.role for f in folders] == ["inbox", "drafts", "sent", "archive", "junk", "trash"]
    assert sorted(r.message_id or "" for r in rows if r.message_id) == sorted(
        i for i in ids if i in {r.message_id for r in rows}
    )
    assert len(rows) == 120 and inbox.total_count == 120 and inbox.unread_count == 120
    assert any(r.from_name == "Zoë Ångström" for r in rows)
    assert any(r.has_attachments for r in rows)


async def test_incremental_sync_fetches_only_new_mail_and_no_change_is_a_no_op(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    fill(dovecot, mail_user, 30)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    fill(dovecot, mail_user, 5, seed=2)
    assert (await sync_imap_account(store, "x", cfg)).startswith("5 new")
    assert (await sync_imap_account(store, "x", cfg)).startswith("0 new, 0 flag changes, 0 removed")
    assert len(await store_state(store)) == 35


@pytest.mark.parametrize("qresync", [True, False])
async def test_flag_changes_and_expunges_by_another_client_are_mirrored(
    store: Store,
    dovecot: Dovecot,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    qresync: bool,
) -> None:
    if not qresync:

        async def no_enable(self: ImapClient, *caps: str) -> frozenset[str]:
            return frozenset()

        monkeypatch.setattr(ImapClient, "enable", no_enable)
    fill(dovecot, mail_user, 20)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    with other_client(dovecot, mail_user) as imap:
        imap.uid("STORE", "1:5", "+FLAGS", "(\\Seen \\Flagged)")
        imap.uid("STORE", "7", "+FLAGS", "(\\Deleted)")
        imap.expunge()
    summary = await sync_imap_account(store, "x", cfg)
    assert "5 flag changes, 1 removed" in summary
    assert await store_state(store) == server_state(dovecot, mail_user)


async def test_uidvalidity_change_rebuilds_the_folder_without_duplicates(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    fill(dovecot, mail_user, 15)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    before = await store_state(store)
    # Dovecot gives the folder a new UIDVALIDITY when its uid list and indexes are lost.
    for leftover in mail_user.maildir.glob("dovecot*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    for sub in ("cur", "new"):
        for path in (mail_user.maildir / sub).iterdir():
            path.rename(mail_user.maildir / "new" / path.name.split(":")[0])
    await sync_imap_account(store, "x", cfg)
    after = await store_state(store)
    assert len(after) == 15 and after.keys() == server_state(dovecot, mail_user).keys()
    async with store.session() as session:
        folder = await queries.folder_by_name(session, "x", "INBOX")
    assert folder.uidvalidity is not None and before


async def test_a_connection_dropped_mid_fetch_leaves_a_consistent_store(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(dovecot, mail_user, 60)
    cfg = config(dovecot, mail_user)
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", 10)
    restore = drop_mid_fetch(monkeypatch, fetch=3, record=4)
    with pytest.raises(ConnectionLost):
        await sync_imap_account(store, "x", cfg)
    stored = len(await store_state(store))
    assert stored % 10 == 0 and 0 < stored < 60  # whole batches only, nothing half-written
    restore()
    await sync_imap_account(store, "x", cfg)
    assert await store_state(store) == server_state(dovecot, mail_user)


async def test_offline_actions_apply_at_once_and_replay_on_the_next_sync(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    cfg, inbox, archive, ids = await synced_inbox(store, dovecot, mail_user, 10)
    # Offline: nothing talks to the server here.
    await actions.set_flags(store, ids[:3], add=frozenset({"\\Seen", "\\Flagged"}))
    await actions.move(store, ids[3:5], archive.id)
    await actions.delete(store, ids[5:6])
    async with store.session() as session:
        assert (await queries.folder_state(session, inbox.id)).total_count == 7
        assert (await queries.folder_state(session, archive.id)).total_count == 2
    await sync_imap_account(store, "x", cfg)
    server_inbox = server_state(dovecot, mail_user)
    assert len(server_inbox) == 7
    assert sum("\\Flagged" in f for f in server_inbox.values()) == 3
    assert len(server_state(dovecot, mail_user, "Archive")) == 2
    assert len(server_state(dovecot, mail_user, "Trash")) == 1
    assert await store_state(store) == server_inbox
    assert await store_state(store, "Archive") == server_state(dovecot, mail_user, "Archive")
    async with store.session() as session:
        pending = await session.execute(text("SELECT count(*) FROM pending_actions"))
        assert pending.scalar() == 0


async def test_an_action_on_a_message_gone_from_the_server_is_dropped_with_a_notice(
    store: Store, dovecot: Dovecot, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    fill(dovecot, mail_user, 3)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        ids = await queries.folder_message_ids(session, inbox.id)
        [row] = await queries.messages_by_ids(session, ids[:1])
    await actions.set_flags(store, ids[:1], add=frozenset({"\\Flagged"}))
    with other_client(dovecot, mail_user) as imap:  # meanwhile another client deletes it
        imap.uid("STORE", str(row.uid), "+FLAGS", "(\\Deleted)")
        imap.expunge()
    await sync_imap_account(store, "x", cfg)
    assert "dropped" in caplog.text
    assert len(await store_state(store)) == 2
    async with store.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM pending_actions"))).scalar() == 0


async def test_offline_full_downloads_every_body(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    fill(dovecot, mail_user, 8)
    table = {**imap_table(dovecot, mail_user), "offline": "full"}
    await sync_imap_account(store, "x", account(table))
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        assert await queries.uids_without_body(session, inbox.id) == {}


async def test_two_clients_changing_the_mailbox_end_in_the_servers_state(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    fill(dovecot, mail_user, 12)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        ids = await queries.folder_message_ids(session, inbox.id)
    await actions.set_flags(store, ids[:6], add=frozenset({"\\Seen"}))
    with other_client(dovecot, mail_user) as imap:
        imap.uid("STORE", "1:12", "+FLAGS", "(\\Flagged)")
        imap.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
        imap.expunge()
        imap.append("INBOX", "", imaplib.Time2Internaldate(0), b"Subject: new\r\n\r\nx\r\n")
    await sync_imap_account(store, "x", cfg)
    assert await store_state(store) == server_state(dovecot, mail_user)


def count_selects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the folders SELECTed from now on, in order."""
    selected: list[str] = []
    original = ImapClient.select

    async def counting(self: ImapClient, name: str, *args: Any, **kwargs: Any) -> Any:
        selected.append(name)
        return await original(self, name, *args, **kwargs)

    monkeypatch.setattr(ImapClient, "select", counting)
    return selected


async def test_subscriptions_are_mirrored_and_unchanged_folders_are_skipped_by_status(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(dovecot, mail_user, 5)
    cfg = config(dovecot, mail_user)
    with other_client(dovecot, mail_user) as imap:
        imap.create("Projects")
        imap.subscribe("Projects")
    await sync_imap_account(store, "x", cfg)
    with other_client(dovecot, mail_user) as imap:
        imap.unsubscribe("Projects")
    selected = count_selects(monkeypatch)
    await sync_imap_account(store, "x", cfg)
    assert selected == []  # STATUS showed every folder unchanged: no SELECT at all
    async with store.session() as session:
        projects = await queries.folder_by_name(session, "x", "Projects")
    assert projects.subscribed is False


async def test_empty_folders_are_recorded_from_list_status_without_a_select(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(dovecot, mail_user, 3)
    with other_client(dovecot, mail_user) as imap:
        imap.append("Archive", "", imaplib.Time2Internaldate(0), b"Subject: kept\r\n\r\nx\r\n")
    selected = count_selects(monkeypatch)
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    assert sorted(selected) == ["Archive", "INBOX"]  # Drafts, Sent, Trash, Junk: LIST-STATUS
    async with store.session() as session:
        sent = await queries.folder_by_name(session, "x", "Sent")
    with other_client(dovecot, mail_user, "Sent") as imap:
        _, data = imap.status("Sent", "(UIDVALIDITY UIDNEXT)")
    assert f"(UIDNEXT {sent.uidnext} UIDVALIDITY {sent.uidvalidity})" in data[0].decode()
    assert sent.highestmodseq is not None and sent.total_count == 0
    # Emptied on the server: the folder's rows are in the store, so it gets the full pass.
    with other_client(dovecot, mail_user, "Archive") as imap:
        imap.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
        imap.expunge()
    selected.clear()
    summary = await sync_imap_account(store, "x", cfg)
    assert selected == ["Archive"] and summary.startswith("0 new, 0 flag changes, 1 removed")
    assert await store_state(store, "Archive") == {}
    selected.clear()
    assert (await sync_imap_account(store, "x", cfg)).startswith("0 new, 0 flag changes, 0 rem")
    assert selected == []


async def test_a_bulk_move_queued_in_batches_replays_as_one_move_per_folder(
    store: Store, dovecot: Dovecot, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    cfg, _inbox, archive, ids = await synced_inbox(store, dovecot, mail_user, 30)
    for start in range(0, 30, 10):  # the interface queues a big selection batch by batch
        await actions.move(store, ids[start : start + 10], archive.id)
    with caplog.at_level("DEBUG", logger="tuimail.protocols"):
        await sync_imap_account(store, "x", cfg)
    moves = [r.getMessage() for r in caplog.records if " UID MOVE " in r.getMessage()]
    assert len(moves) == 1, moves
    assert server_state(dovecot, mail_user) == {}
    assert len(server_state(dovecot, mail_user, "Archive")) == 30
    assert await store_state(store, "Archive") == server_state(dovecot, mail_user, "Archive")


async def test_a_long_fetch_is_committed_in_parts_and_a_drop_keeps_the_parts(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(dovecot, mail_user, 60)
    cfg = config(dovecot, mail_user)
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", 30)
    monkeypatch.setattr(imap_sync, "COMMIT_EVERY", 10)
    sizes: list[int] = []
    insert = queries.insert_header_values

    async def counted(session: Any, folder_pk: int, items: Any) -> list[int]:
        sizes.append(len(items))
        return await insert(session, folder_pk, items)

    monkeypatch.setattr(queries, "insert_header_values", counted)
    restore = drop_mid_fetch(monkeypatch, fetch=1, record=25)
    with pytest.raises(ConnectionLost):
        await sync_imap_account(store, "x", cfg)
    # The newest 30 come first, the oldest of them first: 24 arrived, two parts of ten were
    # committed, the four after them were not.
    assert sorted(await store_state(store)) == list(range(31, 51))
    assert sum(sizes) == 20 and all(size % 10 == 0 for size in sizes)
    restore()
    await sync_imap_account(store, "x", cfg)
    assert await store_state(store) == server_state(dovecot, mail_user)


@pytest.mark.parametrize("count", [0, 1, 7, 10, 23, 40])
def test_new_messages_are_fetched_newest_first_in_whole_batches(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", 10)
    uids = [3 * n + 1 for n in range(count)]  # sparse, as after expunges
    batches = imap_sync._newest_first(uids)
    assert sorted(uid for batch in batches for uid in batch) == uids  # each exactly once
    assert all(batch == sorted(batch) and 0 < len(batch) <= 10 for batch in batches)
    assert all(a[0] > b[-1] for a, b in itertools.pairwise(batches))  # newest first
    assert [len(batch) for batch in batches[:-1]] == [10] * (len(batches) - 1)


async def test_a_store_error_while_logging_in_closes_the_connection(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[ImapClient] = []
    closed: list[ImapClient] = []
    logged_in = asyncio.Event()
    original_connect, original_close = imap_sync.connect, ImapClient.close

    async def connect(name: str, cfg: AccountConfig) -> ImapClient:
        client = await original_connect(name, cfg)
        opened.append(client)
        logged_in.set()
        return client

    async def close(self: ImapClient) -> None:
        closed.append(self)
        await original_close(self)

    async def broken(*_args: Any, **_kwargs: Any) -> int:
        await logged_in.wait()  # the store fails once the login beside it has finished
        raise OSError("disk on fire")

    monkeypatch.setattr(imap_sync, "connect", connect)
    monkeypatch.setattr(ImapClient, "close", close)
    monkeypatch.setattr(queries, "ensure_account", broken)
    with pytest.raises(OSError, match="disk on fire"):
        await sync_imap_account(store, "x", config(dovecot, mail_user))
    assert len(opened) == 1 and closed == opened  # not left open


@contextmanager
def message_updates(store: Store) -> Iterator[list[str]]:
    """The UPDATE statements run on stored messages while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE MESSAGES"):
            seen.append(statement)

    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_sync_without_condstore_where_nothing_changed_reports_and_writes_nothing(
    store: Store,
    plain_dovecot: Dovecot,
    plain_user: MailUser,
) -> None:
    fill(plain_dovecot, plain_user, 40)
    cfg = config(plain_dovecot, plain_user)
    await sync_imap_account(store, "x", cfg)
    with message_updates(store) as updates:
        summary = await sync_imap_account(store, "x", cfg)
    assert summary.startswith("0 new, 0 flag changes, 0 removed"), summary
    assert updates == []
    with other_client(plain_dovecot, plain_user) as imap:
        imap.uid("STORE", "3,5", "+FLAGS", "(\\Flagged)")
    with message_updates(store) as updates:
        summary = await sync_imap_account(store, "x", cfg)
    assert summary.startswith("0 new, 2 flag changes, 0 removed"), summary
    assert await store_state(store) == server_state(plain_dovecot, plain_user)


@pytest.mark.parametrize("server", ["dovecot", "plain_dovecot"])
async def test_server_flags_never_overwrite_a_local_change_not_yet_sent(
    store: Store, request: pytest.FixtureRequest, server: str
) -> None:
    dovecot: Dovecot = request.getfixturevalue(server)
    user = dovecot.add_user()
    fill(dovecot, user, 4)
    cfg = config(dovecot, user)
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        [row] = await queries.messages_by_ids(
            session, (await queries.folder_message_ids(session, inbox.id))[:1]
        )
    await actions.set_flags(store, [row.id], add=frozenset({"\\Seen"}))
    with other_client(dovecot, user) as imap:  # the server's copy changes meanwhile
        imap.uid("STORE", str(row.uid), "+FLAGS", "(\\Flagged)")
    # A folder pass while the change is still queued (its replay failed, or came after).
    client = await connect("x", cfg)
    try:
        result = await imap_sync.sync_folder(store, client, inbox, "x")
    finally:
        await client.close()
    async with store.session() as session:
        [after] = await queries.messages_by_ids(session, [row.id])
    assert after.seen and result.flags == 0
    await sync_imap_account(store, "x", cfg)  # sent, then both changes are kept
    assert await store_state(store) == server_state(dovecot, user)
    assert server_state(dovecot, user)[row.uid or 0] >= {"\\Seen", "\\Flagged"}
