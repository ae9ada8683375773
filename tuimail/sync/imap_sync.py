"""IMAP sync: the server is the truth, the store a cache that makes everything instant.

One pass per folder:
1. SELECT, with QRESYNC (RFC 7162) when the server has it and the folder was synced before; a
   UIDVALIDITY change drops the folder's cache first.
2. Expunges and flag changes: from QRESYNC's VANISHED and FETCH replies on SELECT, or, without
   QRESYNC, from UID SEARCH ALL and FETCH FLAGS (CHANGEDSINCE when CONDSTORE is there).
3. New messages: the UIDs the store does not have, fetched newest first in batches and committed
   batch by batch, so the index fills from the top and a crash loses no more than one batch.
4. Only then is the folder's UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ saved; an interrupted pass is
   simply redone, and the unique (folder, uid) index makes a duplicate impossible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tuimail import collector
from tuimail.config import AccountConfig
from tuimail.protocols.imap import ImapClient
from tuimail.protocols.imap_records import (
    FolderInfo,
    FolderStatus,
    SelectedState,
)
from tuimail.store import action_queries, body_index_queries, queries
from tuimail.store.db import Store
from tuimail.store.message_values import MESSAGE_ID_AT, UID_AT, MessageValues
from tuimail.store.records import FolderState
from tuimail.sync import actions, folder_open
from tuimail.sync.batches import BatchWriter
from tuimail.sync.folder_roles import with_roles
from tuimail.sync.folder_status import shows_no_change
from tuimail.sync.header_rows import RowParser
from tuimail.sync.imap_connect import connect

log = logging.getLogger(__name__)

HEADER_BATCH = 2500  # messages per header FETCH
COMMIT_EVERY = 500  # messages per transaction, at most, while the writer keeps up
BODY_FETCH = 1000  # bodies per UID FETCH command: streamed, never held as a whole
BODY_BATCH = 500  # downloaded bodies per transaction (offline = "full"), at most
BODY_BATCH_BYTES = 4_000_000  # and about this many bytes: memory stays flat for any mailbox
BODY_QUEUE = 1  # batches waiting for a commit, at most; they are committed together (each is
# 4 MB more at the peak: two and three took the 10k download past 150 MB)
ROLE_ORDER = ("inbox", "sent", "drafts", "archive", "trash", "junk")


@dataclass(frozen=True, slots=True)
class ImapProgress:
    """Messages fetched so far in this pass, across folders."""

    account: str
    folder: str
    done: int
    total: int


@dataclass
class FolderResult:
    """What one folder's pass changed."""

    new: int = 0
    flags: int = 0
    gone: int = 0
    rebuilt: bool = False


ProgressCallback = Callable[[ImapProgress], None]


async def _store_folders(
    store: Store, account_pk: int, listed: Sequence[FolderInfo]
) -> dict[str, int]:
    """Mirror the server's folder list; folders gone from the server leave the cache."""
    async with store.session() as session:
        ids = await queries.ensure_folders(
            session,
            account_pk,
            [(i.name, i.role, i.delimiter, i.subscribed) for i in listed if i.selectable],
        )
        for folder in await queries.folders(session, account_pk):
            if not folder.is_local and folder.name not in ids:
                await queries.delete_folder_cache(session, folder.id)
    return ids


def _sync_order(listed: Sequence[FolderInfo]) -> list[FolderInfo]:
    def rank(info: FolderInfo) -> tuple[int, str]:
        order = ROLE_ORDER.index(info.role) if info.role in ROLE_ORDER else len(ROLE_ORDER)
        return order, info.name.casefold()

    return sorted((i for i in listed if i.selectable), key=rank)


async def sync_folder(
    store: Store,
    client: ImapClient,
    folder: FolderState,
    account: str = "",
    progress: ProgressCallback | None = None,
) -> FolderResult:
    """One pass over one folder; see the module docstring for the order of things."""
    result = FolderResult()
    qresync = None
    if (
        "QRESYNC" in client.enabled
        and folder.uidvalidity is not None
        and folder.highestmodseq is not None
        and folder.uidnext is not None
    ):
        qresync = (folder.uidvalidity, folder.highestmodseq)
    # The store is read while the server opens the folder.
    readonly = folder_open.opens_read_only(store, client, folder)
    selecting = asyncio.create_task(client.select(folder.name, readonly=readonly, qresync=qresync))
    try:
        async with store.session() as session:
            known = await queries.folder_uids(session, folder.id)
            stand_ins = await queries.has_rows_without_uid(session, folder.id)
            # Moved or deleted here, not yet on the server: never fetched back as new.
            queued = await action_queries.pending_uids(session, folder.id)
    except BaseException:
        selecting.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await selecting
        raise
    selected = await selecting
    if readonly and folder.uidvalidity is not None and selected.uidvalidity != folder.uidvalidity:
        # Some servers (Courier) report a new UIDVALIDITY at every EXAMINE: ask SELECT.
        selected = await folder_open.confirm_uidvalidity(store, client, folder, qresync, account)
    if folder.uidvalidity is not None and selected.uidvalidity != folder.uidvalidity:
        log.warning("%s/%s: UIDVALIDITY changed; rebuilding its cache", account, folder.name)
        async with store.session() as session:
            await queries.clear_folder(session, folder.id)
        folder = await _reload(store, folder.id)
        result.rebuilt = True
        qresync = None
        known, stand_ins = set(), False  # clear_folder removed every row
    if folder.uidvalidity is None and selected.uidvalidity is not None:
        # Saved before any row of the pass: actions the user queues on those rows record it,
        # even when the pass is cut short (uidnext stays unknown: the next pass is a full one).
        async with store.session() as session:
            await queries.set_folder_uidvalidity(session, folder.id, selected.uidvalidity)
    if qresync is not None:
        await _apply_qresync(store, folder, selected, known, result)
        wanted = await _uids_since(client, folder.uidnext or 1, known | queued)
    else:
        server_uids = await client.uid_search("ALL") if selected.exists else []
        await _apply_full_compare(store, client, folder, selected, known, server_uids, result)
        wanted = sorted(set(server_uids) - known - queued)
    await _fetch_new(store, client, folder, wanted, stand_ins, account, progress, result)
    async with store.session() as session:
        await queries.set_folder_sync_state(
            session,
            folder.id,
            uidvalidity=selected.uidvalidity,
            uidnext=selected.uidnext,
            highestmodseq=selected.highestmodseq,
        )
        await action_queries.drop_placeholders(session, folder.id)  # the folder is complete
        await queries.refresh_counts(session, folder.id)
    return result


async def _reload(store: Store, folder_pk: int) -> FolderState:
    async with store.session() as session:
        return await queries.folder_state(session, folder_pk)


async def _uids_since(client: ImapClient, uidnext: int, known: set[int]) -> list[int]:
    # "UID n:*" always matches the highest UID, even below n: filter against the store.
    found = await client.uid_search(f"UID {uidnext}:*")
    return sorted(set(found) - known)


async def _apply_qresync(
    store: Store,
    folder: FolderState,
    selected: SelectedState,
    known: set[int],
    result: FolderResult,
) -> None:
    reported = [(r.uid, r.flags) for r in selected.changed if r.uid in known]
    if not selected.vanished and not reported:
        return
    async with store.session() as session:
        if selected.vanished:
            result.gone = await queries.delete_uids(session, folder.id, selected.vanished)
            known.difference_update(selected.vanished)
        # Our own replayed changes come back as changes too: only what differs is written.
        changes = await queries.flag_changes(session, folder.id, reported)
        result.flags = await queries.update_flags_by_uid(session, folder.id, changes)


async def _apply_full_compare(
    store: Store,
    client: ImapClient,
    folder: FolderState,
    selected: SelectedState,
    known: set[int],
    server_uids: Sequence[int],
    result: FolderResult,
) -> None:
    gone = known - set(server_uids)
    changes: list[tuple[int, frozenset[str]]] = []
    present = known - gone
    if present:
        since = folder.highestmodseq if "CONDSTORE" in client.enabled else None
        if since is not None and selected.highestmodseq == since:
            records = []  # nothing changed anywhere in the folder
        else:
            records = await client.fetch_flags(f"1:{max(present)}", changedsince=since)
        reported = [(r.uid, r.flags) for r in records if r.uid in present]
        if reported:
            # Without CONDSTORE every message's flags come back: compared with the store
            # first, an unchanged folder costs one read and no write.
            async with store.session() as session:
                changes = await queries.flag_changes(session, folder.id, reported)
    if not gone and not changes:
        return  # the common case, a new or unchanged folder: no transaction at all
    async with store.session() as session:
        if gone:
            result.gone = await queries.delete_uids(session, folder.id, sorted(gone))
            known.difference_update(gone)
        result.flags = await queries.update_flags_by_uid(session, folder.id, changes)


def _newest_first(uids: list[int]) -> list[list[int]]:
    """``uids`` (ascending) in FETCH batches of at most HEADER_BATCH, newest first."""
    return [uids[max(0, end - HEADER_BATCH) : end] for end in range(len(uids), 0, -HEADER_BATCH)]


async def _fetch_new(
    store: Store,
    client: ImapClient,
    folder: FolderState,
    wanted: list[int],
    stand_ins: bool,
    account: str,
    progress: ProgressCallback | None,
    result: FolderResult,
) -> None:
    """Fetch headers newest first, committing every COMMIT_EVERY messages and at the end of
    each FETCH, while the download goes on.

    Committing part of a FETCH at a time keeps the store's writer busy from the start of the
    download instead of after its first FETCH, and leaves at most COMMIT_EVERY messages to
    commit once the last response is in. Each commit holds whole, parsed and checked records;
    a FETCH cut short keeps what was committed of it, and the next pass fetches the rest.

    Rows moved or copied here offline stand in until the server's copies arrive; each goes
    in the transaction that stores its copy, so none is ever missing. Most folders have none
    (``stand_ins`` False, as read when the pass began), and then the batches skip the search.
    One made during this pass stays until the pass ends (sync_folder drops them all): shown
    twice for a while, never missing.
    """
    if not wanted:
        return

    async def commit(batch: list[MessageValues]) -> None:
        async with store.session() as session:
            if stand_ins:
                await action_queries.drop_placeholders(
                    session, folder.id, [str(row[MESSAGE_ID_AT] or "") for row in batch]
                )
            await queries.insert_header_values(session, folder.id, batch)
        result.new += len(batch)
        if progress:
            progress(ImapProgress(account, folder.name, result.new, len(wanted)))

    # A queue deep enough that the download never waits for a commit of the first batches;
    # batches that wait are joined into one transaction.
    depth = max(2, HEADER_BATCH // COMMIT_EVERY * 2)
    parser = RowParser()
    async with BatchWriter(commit, depth, join=True) as writer:
        batch: list[MessageValues] = []
        for chunk in _newest_first(wanted):
            chunk_set = set(chunk)
            async for group in client.fetch_parsed_groups(f"{chunk[0]}:{chunk[-1]}", parser):
                batch += [row for row in group if row[UID_AT] in chunk_set]
                if len(batch) >= COMMIT_EVERY:
                    await writer.put(batch)
                    batch = []
                # A group is parsed from a buffer-full (up to 4 MB) of responses: let the
                # loop turn between groups, for the writer's next statement and the UI.
                await asyncio.sleep(0)
            await writer.put(batch)  # the end of a FETCH ends a batch
            batch = []


async def sync_imap_account(
    store: Store,
    name: str,
    account: AccountConfig,
    progress: Callable[[ImapProgress], None] | None = None,
) -> str:
    """One sync pass of every folder of an IMAP account; returns a one-line summary."""
    with collector.paused_for_sync():
        return await _sync_account(store, name, account, progress)


async def _sync_account(
    store: Store,
    name: str,
    account: AccountConfig,
    progress: Callable[[ImapProgress], None] | None,
) -> str:
    # The TLS handshake and login run while the store is read: both wait on other processes.
    connecting = asyncio.create_task(connect(name, account))
    try:
        async with store.session() as session:
            account_pk = await queries.ensure_account(session, name, "imap", account.email)
    except BaseException:
        connecting.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await (await connecting).close()
        raise
    client = await connecting
    totals = FolderResult()
    try:
        listed, statuses = await client.list_folders_with_status()
        listed = with_roles(listed, account)  # Trash, Sent... by name where LIST marks none
        folder_ids = await _store_folders(store, account_pk, listed)
        dropped = await actions.replay(store, client, account_pk)
        if client.selected is not None:
            # Replayed actions (each SELECTs its folder) changed folders after the LIST
            # counted them: ask each folder again, as without LIST-STATUS.
            statuses = {}
        order = _sync_order(listed)
        empty = {
            folder_ids[i.name]: statuses[i.name]
            for i in order
            if i.name in statuses and statuses[i.name].messages == 0
        }
        done = await _record_empty_folders(store, account_pk, empty, name) if empty else set()
        for info in order:
            if folder_ids[info.name] in done:
                continue
            folder = await _reload(store, folder_ids[info.name])
            if await _unchanged(client, folder, statuses.get(info.name)):
                # Nothing arrived: stand-ins of moves the server did not take are stale.
                async with store.session() as session:
                    await action_queries.drop_placeholders(session, folder.id)
                if account.offline == "full":  # bodies an interrupted download left behind
                    await prefetch_bodies(store, client, folder)
                continue
            outcome = await sync_folder(store, client, folder, name, progress)
            totals.new += outcome.new
            totals.flags += outcome.flags
            totals.gone += outcome.gone
            if account.offline == "full":
                await prefetch_bodies(store, client, folder)
        await client.logout()
    finally:
        await client.close()
    summary = (
        f"{totals.new} new, {totals.flags} flag changes, {totals.gone} removed "
        f"in {len(folder_ids)} folders"
    )
    if dropped:  # the user acted on these: say so where the sync's result is shown
        noun = "change" if len(dropped) == 1 else "changes"
        summary += f"; {len(dropped)} queued {noun} dropped (see the log)"
    return summary


async def _record_empty_folders(
    store: Store, account_pk: int, empty: dict[int, FolderStatus], account: str
) -> set[int]:
    """The pass over folders that LIST-STATUS shows empty, all in one transaction.

    For a folder the store holds no message of either, the pass would SELECT it only to
    learn what STATUS already said, and save that: saved here for all of them at once (a
    first sync meets several empty special-use folders). Folders that still have rows in the
    store are left to the full pass, which removes them. Returns the ids done here.
    """
    async with store.session() as session:
        occupied = await queries.folders_with_messages(session, list(empty))
        states = {f.id: f for f in await queries.folders(session, account_pk)}
        done = {pk for pk in empty if pk not in occupied and pk in states}
        changed: list[tuple[int, int, int | None, int | None]] = []
        for folder_pk in sorted(done):
            folder, status = states[folder_pk], empty[folder_pk]
            modseq = status.highestmodseq or None  # 0: the folder keeps no mod-sequences
            if folder.uidvalidity is not None and folder.uidvalidity != status.uidvalidity:
                log.warning("%s/%s: UIDVALIDITY changed; cache rebuilt", account, folder.name)
            state = (status.uidvalidity, status.uidnext, modseq)
            if (folder.uidvalidity, folder.uidnext, folder.highestmodseq) != state:
                changed.append((folder_pk, *state))
            if folder.total_count or folder.unread_count:
                await queries.refresh_counts(session, folder_pk)
        await queries.set_folder_sync_states(session, changed)
    return done


async def _unchanged(
    client: ImapClient, folder: FolderState, status: FolderStatus | None = None
) -> bool:
    """True when STATUS (``status``, when the LIST gave it) shows nothing new since the
    folder's last complete pass."""
    if folder.uidnext is None or folder.highestmodseq is None:
        return False  # nothing to compare with: no need to ask the server
    if status is None:
        status = await client.status(folder.name)
    return shows_no_change(folder, status)


async def prefetch_bodies(store: Store, client: ImapClient, folder: FolderState) -> int:
    """Download every body of a folder not yet in the store (offline = "full")."""
    async with store.session() as session:
        missing = await queries.uids_without_body(session, folder.id)
    if not missing:
        return 0
    await client.select(folder.name, readonly=True)
    count = 0

    async def commit(bodies: list[tuple[int, bytes]]) -> None:
        nonlocal count
        async with store.session() as session:
            await body_index_queries.store_bodies(session, bodies)
        count += len(bodies)

    # Bytes only, many a transaction: reading each body for search waits for the second phase
    # (sync.body_index); rendering each one here left the connection idle 12 ms a message.
    # Batches are written while the next ones arrive, so the socket is read during commits
    # too; those that queue up behind a commit (and its fsync) go into the next one together:
    # 300 MB in 4 MB transactions took twice as long as in 16 MB ones. Whatever stops the
    # download, what was handed over is still committed.
    async with BatchWriter(commit, BODY_QUEUE, join=True) as writer:
        batch: list[tuple[int, bytes]] = []
        size = 0
        async for uid, raw in client.fetch_bodies(list(missing), BODY_FETCH):
            batch.append((missing[uid], raw))
            size += len(raw)
            if len(batch) >= BODY_BATCH or size >= BODY_BATCH_BYTES:
                await writer.put(batch)
                batch, size = [], 0
        await writer.put(batch)
    return count
