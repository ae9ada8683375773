"""``StoreMailService``: the reading UI's ``MailService`` (``sync.interface``), whichever
protocol an account speaks.

The UI asks for a folder's order (ids by date, or thread rows), pages of rows, a message's bytes
and changes (seen, flag, delete, move, copy); it subscribes to sync progress. It never branches
on IMAP versus POP3: ``StoreMailService`` reads everything from the store, changes messages
through ``sync.actions`` (at once in the store, queued for the server when the folder is on
one) and fetches a body that was never downloaded through a ``BodyFetcher`` (by default
``ServerBodies``, the IMAP fetch of ``sync.imap_remote``). Bodies and server searches share
one kept connection per account (``sync.imap_pool``); ``close`` logs them out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from tuimail.config import AccountConfig, LoadedConfig
from tuimail.errors import MessageNotFound, NotAllowed, TuimailError
from tuimail.mail.query import Query
from tuimail.mail.threads import ThreadRow, thread_messages
from tuimail.store import new_mail_queries, queries, search_queries, ui_queries, virtual_queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState, MessageRow
from tuimail.store.virtual_folders import virtual_kind
from tuimail.sync import actions
from tuimail.sync.accounts import index_for_search, sync_account
from tuimail.sync.imap_pool import ImapRemote
from tuimail.sync.interface import (
    AccountFolders,
    ActionResult,
    Listener,
    MailAction,
    Moved,
    ProgressCallback,
    ServiceEvent,
    SyncFinished,
    SyncOutcome,
    SyncProgress,
)
from tuimail.sync.new_mail import NewMailTracker

# The IMAP engine loads when first used (a body fetch, a search, the open folder's watch), not
# before the first screen is painted.
if TYPE_CHECKING:
    from tuimail.sync.imap_sync import FolderResult

log = logging.getLogger(__name__)

_FLAG_CHANGES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "seen": (frozenset({"\\Seen"}), frozenset()),
    "unseen": (frozenset(), frozenset({"\\Seen"})),
    "flag": (frozenset({"\\Flagged"}), frozenset()),
    "unflag": (frozenset(), frozenset({"\\Flagged"})),
}


class Watcher(Protocol):
    """Keeps one folder in sync while ``run`` runs (``sync.watch.FolderWatcher``)."""

    async def run(self) -> None:
        """Watch until cancelled."""
        ...


class WatcherFactory(Protocol):
    """Makes the watcher of one folder (``FolderWatcher``; tests may pass their own)."""

    def __call__(
        self,
        store: Store,
        name: str,
        account: AccountConfig,
        folder: str,
        on_change: Callable[[FolderResult], Awaitable[None]],
        *,
        lock: asyncio.Lock,
    ) -> Watcher: ...


SyncRunner = Callable[[Store, str, AccountConfig, ProgressCallback | None], Awaitable[SyncOutcome]]


class BodyFetcher(Protocol):
    """Fetches (and stores) the bytes of a message whose body was never downloaded."""

    async def fetch_body(self, folder: FolderState, row: MessageRow) -> bytes:
        """The message's bytes, now also in the store."""
        ...


class ServerBodies:
    """``BodyFetcher`` for IMAP: fetch (BODY.PEEK[]) and cache through ``imap_remote``."""

    def __init__(self, store: Store, config: LoadedConfig, remote: ImapRemote) -> None:
        self.store = store
        self.config = config
        self.remote = remote

    async def fetch_body(self, folder: FolderState, row: MessageRow) -> bytes:
        """The message's bytes, now also in the store."""
        if folder.is_local:  # POP3 mail always has its bytes; a local row without them is lost
            raise MessageNotFound("this message has no copy in the store")
        async with self.store.session() as session:
            name = await queries.account_name(session, folder.account_id)
        from tuimail.sync import imap_remote

        connection = self.remote.connection(name, self.config.account(name))
        return await imap_remote.fetch_body(self.store, connection, row.id)


class StoreMailService:
    """``MailService`` over the local store, for POP3 and IMAP accounts alike."""

    def __init__(
        self,
        store: Store,
        config: LoadedConfig,
        *,
        sync_runner: SyncRunner = sync_account,
        body_fetcher: BodyFetcher | None = None,
        watcher: WatcherFactory | None = None,
        remote: ImapRemote | None = None,
    ) -> None:
        self.store = store
        self.config = config
        # The kept IMAP connections, for bodies and searches here and for the composer's
        # Sent copies and drafts: one per account whoever asks.
        self.remote = remote or ImapRemote()
        self._sync_runner = sync_runner
        self._body_fetcher = body_fetcher or ServerBodies(store, config, self.remote)
        self._listeners: list[Listener] = []
        # One sync at a time per account: a sync pass and the open folder's watcher would
        # otherwise both insert the same new messages.
        self._locks: dict[str, asyncio.Lock] = {}
        self._watcher = watcher
        self.news = NewMailTracker(store)  # which arrivals deserve a bell or a notification

    async def accounts(self) -> list[AccountFolders]:
        """Configured accounts in config order, each with its folders (special-use first)."""
        result = []
        async with self.store.session() as session:
            for name in self.config.accounts:
                try:
                    account_pk = await queries.account_id(session, name)
                except MessageNotFound:  # configured, never synced: no folders yet
                    result.append(AccountFolders(name, ()))
                    continue
                folders = await queries.folders(session, account_pk)
                result.append(AccountFolders(name, tuple(folders)))
        return result

    async def message_ids(self, folder_id: int, limit: int = -1) -> list[int]:
        """A folder's message ids (all, or the newest ``limit``), newest first."""
        kind = virtual_kind(folder_id)
        async with self.store.session() as session:
            if kind is not None:  # All inboxes, All unread, All flagged
                return await virtual_queries.virtual_ids(session, kind, limit)
            return await ui_queries.ordered_ids(session, folder_id, limit)

    async def thread_rows(self, folder_id: int) -> list[ThreadRow]:
        """A folder's messages as threads: newest thread first, replies under their parents."""
        kind = virtual_kind(folder_id)
        async with self.store.session() as session:
            if kind is not None:
                inputs = await virtual_queries.virtual_thread_inputs(session, kind)
            else:
                inputs = await ui_queries.thread_inputs(session, folder_id)
        # Threading a big folder is pure CPU; off the event loop the interface keeps answering.
        return await asyncio.to_thread(thread_messages, inputs)

    async def rows(self, ids: Sequence[int]) -> list[MessageRow]:
        """Index rows for ``ids``, in that order (one page of the index)."""
        async with self.store.session() as session:
            return await queries.messages_by_ids(session, ids)

    async def search(self, query: Query, folder_id: int | None) -> list[int]:
        """Ids matching ``query``, newest first, in one folder or (None) in all."""
        if folder_id is not None and virtual_kind(folder_id) is not None:
            matches = set(await self.search(query, None))  # the store's matches, in its order
            return [pk for pk in await self.message_ids(folder_id) if pk in matches]
        async with self.store.session() as session:
            found = await search_queries.search(session, query, folder_id)
            if folder_id is None:
                return found  # all folders: the store's index (one server trip per folder
                # would make every search as slow as the slowest server)
            folder = await queries.folder_state(session, folder_id)
            name = await queries.account_name(session, folder.account_id)
        settings = self.config.accounts.get(name)
        if folder.is_local or settings is None or settings.kind != "imap":
            return found
        from tuimail.sync import imap_remote

        try:
            connection = self.remote.connection(name, settings)
            extra = await imap_remote.server_search(self.store, connection, folder, query)
        except TuimailError as exc:  # offline: what the store knows is the answer
            log.info("%s: server search of %s skipped: %s", name, folder.name, exc)
            return found
        if not set(extra) - set(found):
            return found
        merged = set(found) | set(extra)
        async with self.store.session() as session:
            order = await ui_queries.ordered_ids(session, folder_id)
        return [pk for pk in order if pk in merged]

    async def open_message(self, message_id: int) -> bytes:
        """A message's raw bytes, fetched from the server when only its headers are stored."""
        async with self.store.session() as session:
            raw = await queries.get_body(session, message_id)
            if raw is not None:
                return raw
            rows = await queries.messages_by_ids(session, [message_id])
            if not rows:
                raise MessageNotFound("this message is no longer in the store")
            folder = await queries.folder_state(session, rows[0].folder_id)
        return await self._body_fetcher.fetch_body(folder, rows[0])

    async def apply(self, action: MailAction) -> ActionResult:
        """Change messages: flags, delete (to Trash; for good inside Trash), move, copy.

        ``sync.actions`` changes the store at once and, for server folders, queues the change
        for the next sync; this adds what the UI needs to know about the result.
        """
        ids = action.message_ids
        if not ids:
            return ActionResult()
        async with self.store.session() as session:
            where = await queries.folders_of(session, ids)
            folders = [await queries.folder_state(session, pk) for pk in where]
            trash = {
                f.id: await queries.folder_with_role(session, f.account_id, "trash")
                for f in folders
            }
            target = None
            if action.target_folder is not None:
                target = await queries.folder_state(session, action.target_folder)
        count = _count(len(ids))
        touched = frozenset(where)
        if action.kind in _FLAG_CHANGES:
            add, remove = _FLAG_CHANGES[action.kind]
            await actions.set_flags(self.store, ids, add, remove)
            return ActionResult(changed=ids, folders=touched)
        if action.kind == "delete":
            to_trash = {t.id for f, t in trash.items() if t is not None and t.id != f}
            homes = {f: t.id for f, t in trash.items() if t is not None and t.id != f}
            moved = await self._moved(ids, homes)
            await actions.delete(self.store, ids)
            summary = f"{count} to Trash" if to_trash else f"{count} deleted"
            return ActionResult(ids, (), touched | to_trash, summary, moved)
        if target is None or any(f.account_id != target.account_id for f in folders):
            raise NotAllowed("choose a folder of the same account")
        if set(where) == {target.id}:
            raise NotAllowed(f"the messages are already in {target.name}")
        copy = action.kind == "copy"
        moved = () if copy else await self._moved(ids, dict.fromkeys(where, target.id))
        async with self.store.session() as session:  # their server copies are not new mail
            self.news.placed(await new_mail_queries.header_ids(session, ids))
        await actions.move(self.store, ids, target.id, copy=copy)
        if copy:
            return ActionResult((), (), frozenset({target.id}), f"{count} copied to {target.name}")
        summary = f"{count} moved to {target.name}"
        return ActionResult(ids, (), touched | {target.id}, summary, moved)

    async def _moved(self, ids: Sequence[int], targets: dict[int, int]) -> tuple[Moved, ...]:
        """What undo needs of messages about to move: ``targets`` maps source to target folder
        (a message whose folder is not there is not moved: deleted for good)."""
        rows = await self.rows(ids)
        return tuple(
            Moved(row.id, row.folder_id, targets[row.folder_id], row.message_id or "")
            for row in rows
            if row.folder_id in targets
        )

    async def undo(self, moved: Sequence[Moved]) -> ActionResult:
        """Move messages back where an action took them from (in the store, then the server)."""
        self.news.placed(item.header_id for item in moved)
        back = await actions.move_back(self.store, moved)
        homes = {item.source_folder for item in moved}
        folders = frozenset(homes | {item.target_folder for item in moved})
        if not back:
            return ActionResult((), (), folders, "Nothing to undo: the messages are gone")
        async with self.store.session() as session:
            names = {(await queries.folder_state(session, pk)).name for pk in homes}
        where = names.pop() if len(names) == 1 else "their folders"
        return ActionResult((), tuple(back), folders, f"{_count(len(back))} back in {where}")

    async def mark_opened(self, message_id: int) -> ActionResult:
        """The user read a message: mark it seen.

        IMAP bodies are fetched with BODY.PEEK[], which leaves the server's flag alone, so the
        flag is set here and queued for the server like any other change.
        """
        rows = await self.rows([message_id])
        if not rows or rows[0].seen:
            return ActionResult()
        return await self.apply(MailAction("seen", (message_id,)))

    async def sync(self, account: str) -> SyncFinished:
        """Run one sync pass of an account; failures come back as an outcome, not raised."""
        settings = self.config.account(account)
        before = await self._newest(account)
        self._emit(SyncProgress(account, 0, 0))  # "started", before the first real progress
        async with self._lock(account):
            await self.news.start(account)
            outcome = await self._sync_runner(self.store, account, settings, self._emit)
        new = await self._unseen_since(account, before) if outcome.ok else 0
        arrived = await self.news.arrived(account) if outcome.ok else None
        finished = SyncFinished(outcome, new, arrived)
        self._emit(finished)
        await index_for_search(self.store)  # after the news: the mail shows first
        return finished

    async def watch(self, folder_id: int) -> None:
        """Keep an IMAP folder up to date through IDLE until cancelled (POP3: nothing to do).

        Each change the server announces is synced at once and reported like a sync pass, so
        counts, the open index and new-mail notices follow within the IDLE round trip.
        A virtual folder watches every account's Inbox, where new mail arrives.
        """
        if virtual_kind(folder_id) is not None:
            async with self.store.session() as session:
                inboxes = await virtual_queries.member_folders(session, "inboxes")
            watches = [asyncio.create_task(self.watch(inbox)) for inbox in inboxes]
            try:
                await asyncio.gather(*watches)
            finally:  # one failed: the others stop with it, as a folder's watch would
                for watch in watches:
                    watch.cancel()
            return
        async with self.store.session() as session:
            folder = await queries.folder_state(session, folder_id)
            name = await queries.account_name(session, folder.account_id)
        settings = self.config.accounts.get(name)
        if folder.is_local or settings is None or settings.kind != "imap":
            return
        newest = await self._newest(name)
        await self.news.start(name)

        async def changed(result: FolderResult) -> None:
            nonlocal newest
            new = await self._unseen_since(name, newest)
            newest = await self._newest(name)
            summary = f"{result.new} new, {result.flags} flag changes, {result.gone} removed"
            arrived = await self.news.arrived(name)
            self._emit(SyncFinished(SyncOutcome(name, True, summary), new, arrived))

        if self._watcher is None:
            from tuimail.sync.watch import FolderWatcher

            self._watcher = FolderWatcher
        watcher = self._watcher(
            self.store, name, settings, folder.name, changed, lock=self._lock(name)
        )
        await watcher.run()

    def _lock(self, account: str) -> asyncio.Lock:
        return self._locks.setdefault(account, asyncio.Lock())

    async def _unseen_since(self, account: str, before: int) -> int:
        async with self.store.session() as session:
            try:
                account_pk = await queries.account_id(session, account)
            except MessageNotFound:
                return 0
            return await ui_queries.unseen_since(session, account_pk, before)

    async def _newest(self, account: str) -> int:
        async with self.store.session() as session:
            try:
                account_pk = await queries.account_id(session, account)
            except MessageNotFound:
                return 0
            return await ui_queries.newest_message_id(session, account_pk)

    async def close(self) -> None:
        """Log out of the kept IMAP connections (at the end of the session)."""
        await self.remote.close()

    async def outbox_count(self) -> int:
        """Messages waiting to be sent."""
        async with self.store.session() as session:
            return await ui_queries.outbox_count(session)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with progress and sync events; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: ServiceEvent) -> None:
        for listener in list(self._listeners):
            listener(event)


def _count(n: int) -> str:
    return "1 message" if n == 1 else f"{n} messages"
