"""Download POP3 mail: store and durably commit first, only then delete on the server.

The order of a run, and why it cannot lose or duplicate a message:
1. LIST and UIDL. Messages whose UIDL the store already has are not downloaded again.
2. RETR the new ones (pipelined) and commit them in batches; each commit writes the messages and
   their UIDLs in one transaction with ``synchronous=FULL``, so after it returns they survive a
   crash or power loss.
3. Only then DELE what may go (leave_on_server off, or older than delete_after_days), and only
   messages whose UIDL is committed. The server applies DELEs at QUIT; if we die before QUIT it
   keeps them, and step 1 of the next run skips them as known and deletes them again. When no
   rule can delete anything, QUIT goes right after the last RETR, while the last batches are
   still being committed: without a DELE it changes nothing on the server.

A large download parses its envelopes in a child process (``sync.parse_worker``), so parsing,
the network and the store's commits use two cores between them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tuimail.config import Pop3Config
from tuimail.errors import ProtocolError
from tuimail.mail.parse import envelope_from_bytes
from tuimail.protocols.pop3 import Mechanism, Pop3Client, Pop3Settings
from tuimail.store import pop3_queries, queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage
from tuimail.sync.batches import BatchWriter
from tuimail.sync.parse_worker import (
    Parsed,
    WorkerParser,
    envelope_parser,
    worker_started_early,
)

log = logging.getLogger(__name__)

BATCH_MESSAGES = 500
BATCH_BYTES = 8 * 1024 * 1024
DAY = 86_400
RETR_WINDOW = 128  # RETRs in flight: the server works ahead while we parse and store
# Parsing happens in between network reads on the event loop, where it would hold up the
# steps of a commit: hand the loop over every few messages so the writes keep going.
YIELD_EVERY = 8
# A download this large parses its envelopes in a child process (the parse is most of the CPU
# work of a download, and this process has the network and the store to keep busy).
PARSE_WORKER_FROM = 2000  # below this, starting the child costs what it saves (measured)


@dataclass(frozen=True, slots=True)
class Pop3Progress:
    """How far a download is, for progress bars."""

    account: str
    messages_done: int
    messages_total: int
    bytes_done: int
    bytes_total: int


@dataclass(frozen=True, slots=True)
class Pop3Report:
    """What one run did."""

    account: str
    downloaded: int
    deleted: int
    on_server: int
    bytes: int
    used_uidl: bool
    too_large: int = 0  # new messages over max_message_size, left on the server


ProgressCallback = Callable[[Pop3Progress], None]


def digest_uidl(raw_headers: bytes, size: int) -> str:
    """A stand-in UIDL for servers without UIDL: a digest of Message-ID, Date and size."""
    envelope = envelope_from_bytes(raw_headers)
    date = envelope.date.isoformat() if envelope.date else ""
    material = f"{envelope.message_id or ''}\0{date}\0{size}".encode()
    return "digest-" + hashlib.sha256(material).hexdigest()[:32]


async def _uidls(
    client: Pop3Client, sizes: dict[int, int], account: str
) -> tuple[dict[int, str], bool, set[str]]:
    """UIDLs by message number; the digest fallback marks ambiguous ones as never deletable."""
    listed = await client.uidl()
    if listed is not None:
        counts: dict[str, int] = {}
        for uidl in listed.values():
            counts[uidl] = counts.get(uidl, 0) + 1
        # A broken server that gives two messages one UIDL: store one, delete neither.
        return listed, True, {uidl for uidl, n in counts.items() if n > 1}
    log.warning(
        "%s: the POP3 server has no UIDL; identifying messages by a digest of "
        "Message-ID, Date and size",
        account,
    )
    uidls: dict[int, str] = {}
    seen: dict[str, int] = {}
    for msgno, size in sizes.items():
        base = digest_uidl(await client.top(msgno, 0), size)
        seen[base] = seen.get(base, 0) + 1
        uidls[msgno] = base if seen[base] == 1 else f"{base}#{seen[base]}"
    # Identical digests cannot be told apart across sessions; such messages stay on the server.
    ambiguous = {u for n, u in uidls.items() if seen[u.split("#")[0]] > 1}
    return uidls, False, ambiguous


async def fetch_account(
    store: Store,
    account: str,
    email: str,
    server: Pop3Config,
    settings: Pop3Settings,
    username: str,
    password: str,
    *,
    progress: ProgressCallback | None = None,
    now: float | None = None,
) -> Pop3Report:
    """Run one download of a POP3 account into its local Inbox."""
    async with store.session() as session:
        account_pk = await queries.ensure_account(session, account, "pop3", email)
        local = [(name, name.lower(), None, True) for name in ("Sent", "Drafts", "Trash")]
        folder_ids = await queries.ensure_folders(
            session, account_pk, [("INBOX", "inbox", None, True), *local], is_local=True
        )
        inbox = folder_ids["INBOX"]
        known = await pop3_queries.known_uidls(session, account_pk)
    # The first download of an account is the one that brings a whole mailbox: its parse
    # child starts now and gets ready while we log in (the server opens the mailbox
    # meanwhile), instead of during the download, when every core is busy.
    async with worker_started_early(not known) as early:
        client = await Pop3Client.connect(settings)
        may_delete = not server.leave_on_server or server.delete_after_days is not None
        quitting: asyncio.Task[None] | None = None
        settled = False

        def network_done() -> None:
            nonlocal quitting
            if not may_delete:
                # No DELE will be sent, so QUIT changes nothing on the server: send it now, while
                # the last batches are parsed and committed, rather than after them.
                quitting = asyncio.create_task(client.quit())

        try:
            await client.login(username, password, _mechanism(server))
            sizes = await client.list()
            uidls, used_uidl, ambiguous = await _uidls(client, sizes, account)
            wanted = _new_messages(uidls, known)
            # A message over the size limit stays on the server, said once per run; it must not
            # hold back the ones after it.
            limit = settings.max_message_size
            too_large = [n for n in wanted if sizes.get(n, 0) > limit]
            if too_large:
                log.warning(
                    "%s: %d message(s) over max_message_size left on the server",
                    account,
                    len(too_large),
                )
                wanted = [n for n in wanted if sizes.get(n, 0) <= limit]
            downloaded, total_bytes = await _download(
                store,
                client,
                account,
                account_pk,
                inbox,
                wanted,
                uidls,
                sizes,
                progress,
                network_done,
                early,
            )
            doomed: list[int] = []
            if quitting is not None:
                # The server takes a while over QUIT (it applies the session's changes to the
                # mailbox); the store's work after a download is done meanwhile.
                await _settle(store, inbox)
                settled = True
                await quitting
            else:
                if may_delete:
                    # Deletions go by what the store holds now, read back after the last commit.
                    async with store.session() as session:
                        known = await pop3_queries.known_uidls(session, account_pk)
                    doomed = _deletable(uidls, known, server, ambiguous, now or time.time())
                if doomed:
                    await client.dele_many(doomed)
                await client.quit()  # the server applies the DELEs only here
        finally:
            try:
                if quitting is not None and not quitting.done():
                    await asyncio.wait([quitting])  # the download failed after the last RETR
            finally:
                if quitting is not None and not quitting.done():
                    quitting.cancel()  # we were cancelled while it ran
                elif quitting is not None and not quitting.cancelled():
                    quitting.exception()  # the download's own error is the one to raise
                await client.close()
        if doomed:
            async with store.session() as session:
                await pop3_queries.mark_deleted_on_server(
                    session, account_pk, [uidls[n] for n in doomed]
                )
        if not settled:
            await _settle(store, inbox)
        return Pop3Report(
            account,
            downloaded,
            len(doomed),
            len(sizes) - len(doomed),
            total_bytes,
            used_uidl,
            len(too_large),
        )


async def _settle(store: Store, inbox: int) -> None:
    """Recount the Inbox, and checkpoint the WAL the download filled (closing would have to)."""
    async with store.session() as session:
        await queries.refresh_counts(session, inbox)
    async with store.session() as session:
        await pop3_queries.checkpoint(session)


def _mechanism(server: Pop3Config) -> Mechanism:
    if server.auth in ("user", "apop", "plain"):
        return server.auth
    return "auto"


def _new_messages(uidls: dict[int, str], known: dict[str, pop3_queries.KnownUidl]) -> list[int]:
    wanted: list[int] = []
    taken: set[str] = set()
    for msgno in sorted(uidls):
        uidl = uidls[msgno]
        if uidl in known or uidl in taken:  # a server listing one UIDL twice is served once
            continue
        taken.add(uidl)
        wanted.append(msgno)
    return wanted


async def _download(
    store: Store,
    client: Pop3Client,
    account: str,
    account_pk: int,
    inbox: int,
    wanted: Sequence[int],
    uidls: dict[int, str],
    sizes: dict[int, int],
    progress: ProgressCallback | None,
    network_done: Callable[[], None],
    early: WorkerParser | None = None,
) -> tuple[int, int]:
    """RETR ``wanted`` and commit them in batches; returns (messages, bytes) committed.

    ``network_done`` is called once the last message is read, before the last commits.
    ``early`` is a parse child started ahead (ended here if the download is too small for it).
    """
    total_bytes = sum(sizes.get(n, 0) for n in wanted)
    done = done_bytes = 0

    async def commit(batch: list[NewMessage]) -> None:
        nonlocal done, done_bytes
        async with store.session() as session:
            await pop3_queries.store_downloaded(session, account_pk, inbox, batch, int(time.time()))
        done += len(batch)
        done_bytes += sum(m.envelope.size for m in batch)
        if progress:
            progress(Pop3Progress(account, done, len(wanted), done_bytes, total_bytes))

    batch: list[NewMessage] = []
    batch_bytes = 0
    async with (
        BatchWriter(commit) as writer,
        envelope_parser(in_worker=len(wanted) >= PARSE_WORKER_FROM, started=early) as parse,
    ):

        async def add(parsed: Parsed) -> None:
            nonlocal batch, batch_bytes
            for msgno, raw, envelope in parsed:
                batch.append(NewMessage(envelope=envelope, uidl=uidls[msgno], raw=raw))
                batch_bytes += len(raw)
                if len(batch) >= BATCH_MESSAGES or batch_bytes >= BATCH_BYTES:
                    await writer.put(batch)
                    batch, batch_bytes = [], 0

        # (message number, digest of its first copy) of each suspect; its bytes are not kept,
        # so a server whose LIST sizes are all inexact does not fill memory with its mailbox.
        suspects: list[tuple[int, bytes]] = []
        count = 0
        async for msgno, raw in client.retr_many(wanted, window=RETR_WINDOW):
            if len(raw) != sizes.get(msgno):
                # With pipelined RETRs, stray bytes after a terminating dot would be read as
                # the next reply and end up inside the next message. A size that differs from
                # LIST is checked with a second, unpipelined RETR before anything is stored.
                log.debug("message %d: %d bytes, LIST said %s", msgno, len(raw), sizes.get(msgno))
                suspects.append((msgno, hashlib.sha256(raw).digest()))
                continue
            await add(await parse.put(msgno, raw))
            count += 1
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        for msgno, digest in suspects:
            raw = await client.retr(msgno)
            if hashlib.sha256(raw).digest() != digest:
                raise ProtocolError(
                    f"{account}: the POP3 server sent message {msgno} differently twice "
                    "(stray data in its replies); nothing more was stored or deleted"
                )
            await add(await parse.put(msgno, raw))
        network_done()
        await add(await parse.finish())
        await writer.put(batch)
    return done, done_bytes  # every batch is committed here, before any DELE is sent


def _deletable(
    uidls: dict[int, str],
    known: dict[str, pop3_queries.KnownUidl],
    server: Pop3Config,
    ambiguous: set[str],
    now: float,
) -> list[int]:
    """Message numbers that may be deleted: committed here, and due under the account's rule."""
    if server.leave_on_server and server.delete_after_days is None:
        return []
    doomed = []
    for msgno in sorted(uidls):
        record = known.get(uidls[msgno])
        if record is None or uidls[msgno] in ambiguous:
            continue  # not stored (or not provably this message): it stays on the server
        age_days = (now - record.stored_at) / DAY
        if not server.leave_on_server or (
            server.delete_after_days is not None and age_days >= server.delete_after_days
        ):
            doomed.append(msgno)
    return doomed
