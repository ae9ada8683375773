"""Opening the store for the interface in two steps: the first screen at once, the rest behind it.

Importing SQLAlchemy, the store and the services costs more than everything else the interface
does before its first paint. ``Startup.begin`` takes the store's lock and reads the first screen
with plain sqlite3 (``store.first_screen``); the interface paints it through the stand-ins
below. ``Startup.finish`` then imports the rest in a thread (the event loop keeps answering
keys), opens the store and hands the real services to the stand-ins: from then on they only
pass calls through. A call that needs the store before that waits for it.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from tuimail.config import LoadedConfig
from tuimail.mail.compose import Draft, Identity, ReplyMode
from tuimail.mail.query import Query
from tuimail.mail.threads import ThreadRow
from tuimail.store.files import lock_store
from tuimail.store.first_screen import FirstScreen, read_first_screen
from tuimail.store.records import MessageRow
from tuimail.sync.identities import identities, new_draft
from tuimail.sync.interface import (
    AccountFolders,
    ActionResult,
    AddressSuggestion,
    ComposeService,
    DraftSummary,
    Listener,
    MailAction,
    MailService,
    Moved,
    Origin,
    SyncFinished,
    WaitingMessage,
)

if TYPE_CHECKING:
    from tuimail.store.db import Store
    from tuimail.sync.service import StoreMailService

# What the store's services import; loaded in a thread by ``finish``.
HEAVY_MODULES = ("tuimail.store.db", "tuimail.sync.service", "tuimail.sync.composing")

T = TypeVar("T")


class Pending(Generic[T]):
    """A service that exists later: calls made before it does wait for it (or its failure)."""

    def __init__(self) -> None:
        self._future: asyncio.Future[T] | None = None
        self.ready: T | None = None

    def _waiting(self) -> asyncio.Future[T]:
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
        return self._future

    def resolve(self, value: T) -> None:
        self.ready = value
        self._waiting().set_result(value)

    def fail(self, error: BaseException) -> None:
        future = self._waiting()
        future.set_exception(error)
        future.exception()  # retrieved: nobody may be waiting, and asyncio would log it

    async def get(self) -> T:
        if self.ready is not None:
            return self.ready
        return await asyncio.shield(self._waiting())


class StartingMailService:
    """``MailService`` that answers the first screen from a snapshot until the store is open."""

    def __init__(self, first: FirstScreen | None) -> None:
        self._first = first
        self._real: Pending[MailService] = Pending()
        self._listeners: list[Listener] = []
        self._unsubscribe: dict[int, Callable[[], None]] = {}

    def opened(self, service: MailService) -> None:
        """The store is open: from now on ``service`` answers everything."""
        self._first = None
        self._real.resolve(service)
        for listener in self._listeners:
            self._unsubscribe[id(listener)] = service.subscribe(listener)

    def failed(self, error: BaseException) -> None:
        """The store did not open: calls waiting for it raise ``error``."""
        self._real.fail(error)

    async def accounts(self) -> list[AccountFolders]:
        if self._first is not None:
            return [AccountFolders(name, folders) for name, folders in self._first.accounts]
        return await (await self._real.get()).accounts()

    async def message_ids(self, folder_id: int, limit: int = -1) -> list[int]:
        first = self._first
        if first is not None and folder_id == first.folder_id:
            if limit < 0 and first.complete:
                return list(first.head)
            if 0 <= limit <= len(first.head) or (limit > 0 and first.complete):
                return list(first.head[:limit])
        return await (await self._real.get()).message_ids(folder_id, limit)

    async def rows(self, ids: Sequence[int]) -> list[MessageRow]:
        first = self._first
        if first is not None and all(pk in first.rows for pk in ids):
            return [first.rows[pk] for pk in ids]
        return await (await self._real.get()).rows(ids)

    async def thread_rows(self, folder_id: int) -> list[ThreadRow]:
        return await (await self._real.get()).thread_rows(folder_id)

    async def search(self, query: Query, folder_id: int | None) -> list[int]:
        return await (await self._real.get()).search(query, folder_id)

    async def open_message(self, message_id: int) -> bytes:
        return await (await self._real.get()).open_message(message_id)

    async def apply(self, action: MailAction) -> ActionResult:
        return await (await self._real.get()).apply(action)

    async def mark_opened(self, message_id: int) -> ActionResult:
        return await (await self._real.get()).mark_opened(message_id)

    async def undo(self, moved: Sequence[Moved]) -> ActionResult:
        return await (await self._real.get()).undo(moved)

    async def sync(self, account: str) -> SyncFinished:
        return await (await self._real.get()).sync(account)

    async def outbox_count(self) -> int:
        return await (await self._real.get()).outbox_count()

    async def watch(self, folder_id: int) -> None:
        await (await self._real.get()).watch(folder_id)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        if self._real.ready is not None:
            return self._real.ready.subscribe(listener)
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
            later = self._unsubscribe.pop(id(listener), None)
            if later is not None:
                later()

        return unsubscribe


class StartingComposer:
    """``ComposeService`` that can start a message before the store is open (it saves later)."""

    def __init__(self, config: LoadedConfig) -> None:
        self.config = config
        self._real: Pending[ComposeService] = Pending()

    def opened(self, composer: ComposeService) -> None:
        """The store is open: from now on ``composer`` answers everything."""
        self._real.resolve(composer)

    def failed(self, error: BaseException) -> None:
        """The store did not open: calls waiting for it raise ``error``."""
        self._real.fail(error)

    def identities(self, account: str) -> list[Identity]:
        return identities(self.config.account(account))

    def new_draft(self, account: str) -> Draft:
        return new_draft(self.config.account(account))

    async def reply(self, account: str, message_id: int, mode: ReplyMode) -> Draft:
        return await (await self._real.get()).reply(account, message_id, mode)

    async def forward(self, account: str, message_id: int, *, inline: bool = True) -> Draft:
        return await (await self._real.get()).forward(account, message_id, inline=inline)

    async def prepare_completion(self) -> None:
        await (await self._real.get()).prepare_completion()

    async def complete(self, fragment: str, limit: int = 8) -> list[AddressSuggestion]:
        return await (await self._real.get()).complete(fragment, limit)

    async def ask_address_book(
        self, fragment: str, limit: int = 8
    ) -> list[AddressSuggestion] | None:
        return await (await self._real.get()).ask_address_book(fragment, limit)

    async def drafts(self) -> list[DraftSummary]:
        return await (await self._real.get()).drafts()

    async def open_draft(self, draft_id: int) -> tuple[str, Draft]:
        return await (await self._real.get()).open_draft(draft_id)

    async def adopt_draft(self, message_pk: int) -> int:
        return await (await self._real.get()).adopt_draft(message_pk)

    async def autosave(self, account: str, draft: Draft, draft_id: int | None) -> int:
        return await (await self._real.get()).autosave(account, draft, draft_id)

    async def postpone(self, account: str, draft: Draft, draft_id: int | None) -> int:
        return await (await self._real.get()).postpone(account, draft, draft_id)

    async def discard(self, draft_id: int) -> None:
        await (await self._real.get()).discard(draft_id)

    async def submit(
        self,
        account: str,
        draft: Draft,
        draft_id: int | None,
        origin: Origin | None,
        send_at: int | None = None,
    ) -> str:
        return await (await self._real.get()).submit(account, draft, draft_id, origin, send_at)

    async def waiting(self, message_id: str) -> int | None:
        return await (await self._real.get()).waiting(message_id)

    async def take_back(self, message_id: str) -> tuple[str, Draft, Origin | None]:
        return await (await self._real.get()).take_back(message_id)

    async def flush_due(self) -> list[str]:
        return await (await self._real.get()).flush_due()

    async def waiting_messages(self) -> list[WaitingMessage]:
        return await (await self._real.get()).waiting_messages()

    async def flush(self, message_id: str) -> str:
        return await (await self._real.get()).flush(message_id)


class Startup:
    """The store of one interface session, opened in two steps (see the module's text)."""

    def __init__(self, path: Path, config: LoadedConfig, first_lines: int) -> None:
        self.path = path
        self.config = config
        self.first_lines = first_lines
        self._lock_fd: int | None = None
        self.first: FirstScreen | None = None
        self.mail = StartingMailService(None)
        self.composer = StartingComposer(config)
        self.opened: StoreMailService | None = None  # by ``finish``; the app closes it

    def begin(self) -> None:
        """Take the store's lock (StoreError if another tuimail has it); read the first screen.

        A missing or older store has no first screen: its calls wait for ``finish``, which
        creates or migrates it.
        """
        self._lock_fd = lock_store(self.path)
        self.first = read_first_screen(self.path, self.config.accounts, self.first_lines)
        self.mail = StartingMailService(self.first)

    async def finish(self) -> Store:
        """Import and open the store and its services; the stand-ins pass calls to them."""
        lock_fd, self._lock_fd = self._lock_fd, None
        try:
            for name in HEAVY_MODULES:
                await asyncio.to_thread(importlib.import_module, name)
            from tuimail.store.db import open_store
            from tuimail.sync.composing import StoreComposer
            from tuimail.sync.service import StoreMailService
        except BaseException as exc:
            if lock_fd is not None:
                os.close(lock_fd)
            self._failed(exc)
            raise
        try:
            store = await open_store(self.path, lock_fd=lock_fd)  # closes the lock on failure
        except BaseException as exc:
            self._failed(exc)
            raise
        mail = StoreMailService(store, self.config)
        self.opened = mail
        self.mail.opened(mail)
        self.composer.opened(StoreComposer(store, self.config, mail, remote=mail.remote))
        return store

    def _failed(self, error: BaseException) -> None:
        self.mail.failed(error)
        self.composer.failed(error)

    def abandon(self) -> None:
        """Let go of the lock when ``finish`` never ran (the interface quit first)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
