"""Import mbox files, Maildirs and MH folders into an account's folder.

For IMAP the messages are APPENDed on the server with their flags and dates (many to a command
when the server offers MULTIAPPEND), then the folder is synced into the store; for POP3 they go
into the store's local folder, a batch to a transaction.

An import can be stopped at any point (even by kill -9) and run again: before appending, the
target folder's messages of the same sizes as the source's are compared by content, and a
source message already there (as many times as it is in the source) is skipped as a duplicate.
Nothing is written about progress, so there is nothing to get out of step with the folder.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tuimail.config import AccountConfig
from tuimail.errors import ConnectionLost, ProtocolError
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState, NewMessage
from tuimail.sync.import_sources import (
    MboxQuoting,
    Skipped,
    SourceFolder,
    SourceMessage,
    crlf,
    open_source,
)

if TYPE_CHECKING:  # the IMAP side loads only for an IMAP account
    from tuimail.protocols.imap import ImapClient

log = logging.getLogger(__name__)

BATCH_MESSAGES = 100  # messages per MULTIAPPEND command or store transaction, at most
BATCH_BYTES = 4_000_000  # and about this many bytes


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Source messages handled so far (imported or skipped) of all there are."""

    folder: str
    done: int
    total: int


@dataclass
class ImportReport:
    """What an import did, folder by folder, and what it skipped and why."""

    imported: int = 0
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    examples: dict[str, str] = field(default_factory=dict)  # reason -> the first origin
    folders: list[str] = field(default_factory=list)

    def skip(self, origin: str, reason: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, origin)
        log.info("import: skipped %s: %s", origin, reason)


ProgressCallback = Callable[[ImportProgress], None]


def digest(raw: bytes) -> bytes:
    """The content key of a message: its bytes with CRLF line ends, hashed."""
    return hashlib.sha256(crlf(raw)).digest()


@dataclass
class _Plan:
    """One source folder, the target folder it goes to, and how many messages it holds."""

    source: SourceFolder
    target: str
    sizes: set[int]
    count: int


def _plans(folders: list[SourceFolder], target: str, delimiter: str) -> list[_Plan]:
    plans = []
    for folder in folders:
        sizes: set[int] = set()
        count = 0
        for entry in folder.entries():
            count += 1
            if isinstance(entry, SourceMessage):
                sizes.add(len(entry.raw))
        name = delimiter.join((target, *folder.subfolder)) if folder.subfolder else target
        plans.append(_Plan(folder, name, sizes, count))
    return plans


def _batches(
    plan: _Plan, present: Counter[bytes], report: ImportReport, counting: _Counting
) -> Iterator[list[SourceMessage]]:
    """The source messages not yet in the folder, in batches; the rest counted as skipped.
    The caller advances the progress by each batch once it is stored."""
    batch: list[SourceMessage] = []
    size = passed = 0
    for entry in plan.source.entries():
        if isinstance(entry, Skipped):
            report.skip(entry.origin, entry.reason)
            passed += 1
            continue
        key = digest(entry.raw)
        if present[key] > 0:
            present[key] -= 1
            report.duplicates += 1
            passed += 1
            continue
        batch.append(entry)
        size += len(entry.raw)
        if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
            counting.advance(plan.target, passed)
            yield batch
            batch, size, passed = [], 0, 0
    counting.advance(plan.target, passed)
    if batch:
        yield batch


async def import_path(
    store: Store,
    name: str,
    account: AccountConfig,
    folder: str,
    source: Path,
    quoting: MboxQuoting = "auto",
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import ``source`` into ``folder`` of account ``name`` (and its subfolders for a
    Maildir++ tree); what was there already is skipped, so a re-run imports only the rest."""
    folders = open_source(source, quoting)
    if account.kind == "imap":
        return await _import_imap(store, name, account, folder, folders, progress)
    return await _import_local(store, name, account, folder, folders, progress)


class _Counting:
    """Reports progress across every folder of one import."""

    def __init__(self, total: int, progress: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def advance(self, folder: str, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(ImportProgress(folder, min(self.done, self.total), self.total))


# POP3: the store is the record


async def _import_local(
    store: Store,
    name: str,
    account: AccountConfig,
    folder: str,
    folders: list[SourceFolder],
    progress: ProgressCallback | None,
) -> ImportReport:
    report = ImportReport()
    plans = _plans(folders, folder, "/")
    counting = _Counting(sum(p.count for p in plans), progress)
    async with store.session() as session:
        account_pk = await queries.ensure_account(session, name, account.kind, account.email)
        known = {f.name: f for f in await queries.folders(session, account_pk)}
    for plan in plans:
        target = known.get(plan.target)
        if target is None and plan.target.upper() == "INBOX":
            target = next((f for f in known.values() if f.role == "inbox"), None)
        if target is None:
            async with store.session() as session:
                folder_pk = await queries.create_local_folder(session, account_pk, plan.target)
        else:
            folder_pk = target.id
        present = await _present_in_store(store, folder_pk, plan.sizes)
        report.folders.append(plan.target)
        for batch in _batches(plan, present, report, counting):
            items = [
                NewMessage(
                    envelope=envelope_from_bytes(m.raw),
                    flags=m.flags,
                    internal_date=m.internal_date,
                    raw=m.raw,
                )
                for m in batch
            ]
            async with store.session() as session:  # one transaction, fsynced (synchronous=FULL)
                await queries.insert_messages(session, folder_pk, items)
                await queries.refresh_counts(session, folder_pk)
            report.imported += len(batch)
            counting.advance(plan.target, len(batch))
    return report


async def _present_in_store(store: Store, folder_pk: int, sizes: set[int]) -> Counter[bytes]:
    """Content keys of the folder's stored messages that may equal a source message."""
    present: Counter[bytes] = Counter()
    async with store.session() as session:
        async for _row, raw in queries.iter_folder_raw(session, folder_pk):
            if raw is not None and len(crlf(raw)) in sizes:
                present[digest(raw)] += 1
    return present


# IMAP: the server is the record


async def _import_imap(
    store: Store,
    name: str,
    account: AccountConfig,
    folder: str,
    folders: list[SourceFolder],
    progress: ProgressCallback | None,
) -> ImportReport:
    from tuimail.sync.imap_connect import connect
    from tuimail.sync.imap_sync import prefetch_bodies, sync_folder

    report = ImportReport()
    client = await connect(name, account)
    try:
        listed = {info.name: info for info in await client.list_folders()}
        delimiter = next((i.delimiter for i in listed.values() if i.delimiter), None) or "/"
        plans = _plans(folders, folder, delimiter)
        counting = _Counting(sum(p.count for p in plans), progress)
        async with store.session() as session:
            account_pk = await queries.ensure_account(session, name, "imap", account.email)
        for plan in plans:
            if plan.target not in listed and plan.target.upper() != "INBOX":
                await client.create_folder(plan.target)
                await client.subscribe(plan.target)
            async with store.session() as session:
                folder_pk = await queries.ensure_folder(
                    session, account_pk, plan.target, delimiter=delimiter
                )
                state = await queries.folder_state(session, folder_pk)
            # The folder as the server has it now, a crashed import's messages included.
            await sync_folder(store, client, state, name)
            present = await _present_on_server(store, client, state, plan.sizes)
            report.folders.append(plan.target)
            for batch in _batches(plan, present, report, counting):
                await _append(client, plan.target, batch, report)
                counting.advance(plan.target, len(batch))
            async with store.session() as session:
                state = await queries.folder_state(session, folder_pk)
            await sync_folder(store, client, state, name)
            if account.offline == "full":
                await prefetch_bodies(store, client, state)
        await client.logout()
    finally:
        await client.close()
    return report


async def _present_on_server(
    store: Store, client: ImapClient, folder: FolderState, sizes: set[int]
) -> Counter[bytes]:
    """Content keys of the folder's messages whose size (RFC822.SIZE) a source message has;
    bodies the store lacks are fetched."""
    present: Counter[bytes] = Counter()
    missing: list[int] = []
    async with store.session() as session:
        async for row, raw in queries.iter_folder_raw(session, folder.id):
            if row.size not in sizes or row.uid is None:
                continue
            if raw is not None:
                present[digest(raw)] += 1
            else:
                missing.append(row.uid)
    if missing:
        await client.select(folder.name, readonly=True)
        async for _uid, raw in client.fetch_bodies(missing):
            present[digest(raw)] += 1
    return present


async def _append(
    client: ImapClient, folder: str, batch: list[SourceMessage], report: ImportReport
) -> None:
    """APPEND a batch: one MULTIAPPEND when offered (all or nothing), else one by one."""
    if "MULTIAPPEND" in client.capabilities and len(batch) > 1:
        try:
            await client.append_many(folder, [(m.raw, m.flags, m.internal_date) for m in batch])
            report.imported += len(batch)
            return
        except ConnectionLost:
            raise
        except ProtocolError as refused:
            # Nothing of the batch was stored: find the message the server will not take.
            log.info("MULTIAPPEND refused (%s); appending one by one", refused)
    for message in batch:
        try:
            await client.append(folder, message.raw, message.flags, message.internal_date)
        except ConnectionLost:
            raise
        except ProtocolError as refused:  # a NO for this message: the session goes on
            report.skip(f"{message.origin}: {refused}", "refused by the server")
            continue
        report.imported += 1
