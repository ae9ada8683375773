"""The one interface the reading UI uses to reach mail, whichever protocol an account speaks.

The UI asks for a folder's order (ids by date, or thread rows), pages of rows, a message's bytes
and changes (seen, flag, delete, move, copy); it subscribes to sync progress. It never branches
on IMAP versus POP3: ``StoreMailService`` reads everything from the store and hands what only a
server can do (fetching a body that was never downloaded, changing a message on the server) to
two hooks, ``BodyFetcher`` and ``RemoteActions``, which the IMAP sync fills in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from tuimail.config import AccountConfig, LoadedConfig
from tuimail.errors import MessageNotFound, NotAllowed
from tuimail.mail.threads import ThreadRow, thread_messages
from tuimail.store import queries, ui_queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState, MessageRow
from tuimail.sync.accounts import ProgressCallback, SyncOutcome, SyncProgress, sync_account

log = logging.getLogger(__name__)

ActionKind = Literal["seen", "unseen", "flag", "unflag", "delete", "move", "copy"]
_FLAG_CHANGES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "seen": (frozenset({"\\Seen"}), frozenset()),
    "unseen": (frozenset(), frozenset({"\\Seen"})),
    "flag": (frozenset({"\\Flagged"}), frozenset()),
    "unflag": (frozenset(), frozenset({"\\Flagged"})),
}


@dataclass(frozen=True, slots=True)
class AccountFolders:
    """A configured account and the folders the store has for it (none before the first sync)."""

    name: str
    folders: tuple[FolderState, ...]


@dataclass(frozen=True, slots=True)
class MailAction:
    """A change to messages; ``target_folder`` is the destination of a move or copy."""

    kind: ActionKind
    message_ids: tuple[int, ...]
    target_folder: int | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action changed, so the UI can update just that."""

    removed: tuple[int, ...] = ()  # ids that left their folder (moved, deleted)
    changed: tuple[int, ...] = ()  # ids still in place whose flags changed
    folders: frozenset[int] = frozenset()  # folders whose counts changed
    summary: str = ""  # one line for the user


@dataclass(frozen=True, slots=True)
class SyncFinished:
    """One account's sync pass ended; ``new_messages`` counts unread mail it brought."""

    outcome: SyncOutcome
    new_messages: int


ServiceEvent = SyncProgress | SyncFinished
Listener = Callable[[ServiceEvent], None]
SyncRunner = Callable[[Store, str, AccountConfig, ProgressCallback | None], Awaitable[SyncOutcome]]


class BodyFetcher(Protocol):
    """Fetches (and stores) the bytes of a message whose body was never downloaded."""

    async def fetch_body(self, folder: FolderState, row: MessageRow) -> bytes:
        """The message's bytes, now also in the store."""
        ...


class RemoteActions(Protocol):
    """Applies an action to messages of a folder that lives on a server."""

    async def apply(self, folder: FolderState, action: MailAction) -> ActionResult:
        """Change the messages on the server (or queue the change) and in the store."""
        ...


class MailService(Protocol):
    """Everything the reading UI asks of the mail layer."""

    async def accounts(self) -> list[AccountFolders]:
        """Configured accounts in config order, each with its folders (special-use first)."""
        ...

    async def message_ids(self, folder_id: int) -> list[int]:
        """A folder's message ids, newest first."""
        ...

    async def thread_rows(self, folder_id: int) -> list[ThreadRow]:
        """A folder's messages as threads: newest thread first, replies under their parents."""
        ...

    async def rows(self, ids: Sequence[int]) -> list[MessageRow]:
        """Index rows for ``ids``, in that order (one page of the index)."""
        ...

    async def open_message(self, message_id: int) -> bytes:
        """A message's raw bytes, fetched from the server when only its headers are stored."""
        ...

    async def apply(self, action: MailAction) -> ActionResult:
        """Change messages: flags, delete (to Trash; for good inside Trash), move, copy."""
        ...

    async def sync(self, account: str) -> SyncFinished:
        """Run one sync pass of an account; failures come back as an outcome, not raised."""
        ...

    async def outbox_count(self) -> int:
        """Messages waiting to be sent."""
        ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with progress and sync events; returns the unsubscribe function."""
        ...


class StoreMailService:
    """``MailService`` over the local store, for POP3 and IMAP accounts alike."""

    def __init__(
        self,
        store: Store,
        config: LoadedConfig,
        *,
        sync_runner: SyncRunner = sync_account,
        body_fetcher: BodyFetcher | None = None,
        remote: RemoteActions | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self._sync_runner = sync_runner
        self._body_fetcher = body_fetcher
        self._remote = remote
        self._listeners: list[Listener] = []

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

    async def message_ids(self, folder_id: int) -> list[int]:
        """A folder's message ids, newest first."""
        async with self.store.session() as session:
            return await ui_queries.ordered_ids(session, folder_id)

    async def thread_rows(self, folder_id: int) -> list[ThreadRow]:
        """A folder's messages as threads: newest thread first, replies under their parents."""
        async with self.store.session() as session:
            inputs = await ui_queries.thread_inputs(session, folder_id)
        # Threading a big folder is pure CPU; off the event loop the interface keeps answering.
        return await asyncio.to_thread(thread_messages, inputs)

    async def rows(self, ids: Sequence[int]) -> list[MessageRow]:
        """Index rows for ``ids``, in that order (one page of the index)."""
        async with self.store.session() as session:
            return await queries.messages_by_ids(session, ids)

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
        if self._body_fetcher is None:
            raise MessageNotFound(
                "this message has not been downloaded yet; it will be after the next sync"
            )
        return await self._body_fetcher.fetch_body(folder, rows[0])

    async def apply(self, action: MailAction) -> ActionResult:
        """Change messages: flags, delete (to Trash; for good inside Trash), move, copy."""
        if not action.message_ids:
            return ActionResult()
        async with self.store.session() as session:
            where = await ui_queries.message_folders(session, action.message_ids)
            folders = {pk: await queries.folder_state(session, pk) for pk in set(where.values())}
            target = (
                await queries.folder_state(session, action.target_folder)
                if action.target_folder is not None
                else None
            )
        results = []
        for folder_pk, folder in folders.items():
            ids = tuple(pk for pk in action.message_ids if where.get(pk) == folder_pk)
            part = MailAction(action.kind, ids, action.target_folder)
            if folder.is_local:
                results.append(await self._apply_local(folder, target, part))
            elif self._remote is not None:
                results.append(await self._remote.apply(folder, part))
            else:
                raise NotAllowed("changing mail on an IMAP server is not available yet")
        return _merge(results)

    async def _apply_local(
        self, folder: FolderState, target: FolderState | None, action: MailAction
    ) -> ActionResult:
        ids = action.message_ids
        count = _count(len(ids))
        async with self.store.session() as session:
            if action.kind in _FLAG_CHANGES:
                add, remove = _FLAG_CHANGES[action.kind]
                await queries.set_flags(session, ids, add=add, remove=remove)
                return ActionResult(changed=ids, folders=frozenset({folder.id}))
            if action.kind == "delete":
                if folder.role == "trash":
                    await ui_queries.expunge_messages(session, ids)
                    return ActionResult(ids, (), frozenset({folder.id}), f"{count} deleted")
                trash = await ui_queries.trash_folder(session, folder.account_id)
                await queries.move_messages(session, ids, trash)
                return ActionResult(ids, (), frozenset({folder.id, trash}), f"{count} to Trash")
            if target is None or target.account_id != folder.account_id:
                raise NotAllowed("choose a folder of the same account")
            if not target.is_local:
                raise NotAllowed(f"{target.name} is on the server; moving there is not ready yet")
            if target.id == folder.id:
                raise NotAllowed(f"the messages are already in {target.name}")
            if action.kind == "move":
                await queries.move_messages(session, ids, target.id)
                return ActionResult(
                    ids, (), frozenset({folder.id, target.id}), f"{count} moved to {target.name}"
                )
            await ui_queries.copy_messages(session, ids, target.id)
            return ActionResult((), (), frozenset({target.id}), f"{count} copied to {target.name}")

    async def sync(self, account: str) -> SyncFinished:
        """Run one sync pass of an account; failures come back as an outcome, not raised."""
        settings = self.config.account(account)
        before = await self._newest(account)
        outcome = await self._sync_runner(self.store, account, settings, self._emit)
        new = 0
        if outcome.ok:
            async with self.store.session() as session:
                try:
                    account_pk = await queries.account_id(session, account)
                except MessageNotFound:
                    account_pk = None
                if account_pk is not None:
                    new = await ui_queries.unseen_since(session, account_pk, before)
        finished = SyncFinished(outcome, new)
        self._emit(finished)
        return finished

    async def _newest(self, account: str) -> int:
        async with self.store.session() as session:
            try:
                account_pk = await queries.account_id(session, account)
            except MessageNotFound:
                return 0
            return await ui_queries.newest_message_id(session, account_pk)

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


def _merge(results: list[ActionResult]) -> ActionResult:
    if len(results) == 1:
        return results[0]
    return ActionResult(
        removed=tuple(pk for r in results for pk in r.removed),
        changed=tuple(pk for r in results for pk in r.changed),
        folders=frozenset().union(*(r.folders for r in results)),
        summary="; ".join(r.summary for r in results if r.summary),
    )
