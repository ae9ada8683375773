"""Watching the open folder: IDLE on a connection of its own, a sync on every change.

New mail shows up as soon as the server announces it (within the IDLE round trip), without
polling. The connection comes back after network trouble with exponential backoff and jitter;
a refused login ends the watch (retrying a wrong password helps nobody).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from tuimail.config import AccountConfig
from tuimail.errors import AuthError, ConnectionLost, MessageNotFound, ProtocolError
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState
from tuimail.sync.imap_connect import connect
from tuimail.sync.imap_sync import FolderResult, sync_folder

log = logging.getLogger(__name__)

IDLE_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE well within 29 minutes
POLL_SECONDS = 60.0  # the open folder of a server without IDLE is synced this often
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0

ChangeCallback = Callable[[FolderResult], Awaitable[None] | None]


def backoff_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds before reconnect ``attempt`` (0-based): doubling, capped, with 50-100% jitter."""
    base: float = min(BACKOFF_MAX, BACKOFF_FIRST * 2.0**attempt)
    return base * (0.5 + rng() / 2)


class FolderWatcher:
    """Keep one folder of an IMAP account in sync for as long as ``run`` runs."""

    def __init__(
        self,
        store: Store,
        name: str,
        account: AccountConfig,
        folder: str,
        on_change: ChangeCallback,
        *,
        idle_seconds: float = IDLE_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        lock: asyncio.Lock | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.store = store
        self.name = name
        self.account = account
        self.folder = folder
        self.on_change = on_change
        self.idle_seconds = idle_seconds
        self._sleep = sleep
        self._rng = rng
        self.poll_seconds = poll_seconds
        # Held around each sync of the folder: a whole-account sync in the same process takes
        # it too, so two passes never insert the same new messages at once.
        self._lock = lock or asyncio.Lock()
        self.connected = asyncio.Event()  # set while a connection is up (the offline indicator)
        self.idling = asyncio.Event()  # set while the server may push news to us

    async def run(self) -> None:
        """Watch until cancelled; raises AuthError when the server refuses the login."""
        attempt = 0
        while True:
            try:
                await self._watch()
            except AuthError:
                raise
            except (ConnectionLost, ProtocolError, OSError) as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Cancelled while a network wait failed: stop, do not reconnect.
                    raise asyncio.CancelledError from exc
                self.connected.clear()
                delay = backoff_delay(attempt, self._rng)
                log.info(
                    "%s: watch of %s lost (%s); again in %.1f s", self.name, self.folder, exc, delay
                )
                attempt += 1
                await self._sleep(delay)
                continue
            attempt = 0

    async def _state(self) -> FolderState:
        async with self.store.session() as session:
            account_pk = await queries.account_id(session, self.name)
            found = next(
                (f for f in await queries.folders(session, account_pk) if f.name == self.folder),
                None,
            )
        if found is None:
            raise MessageNotFound(f"{self.name}: no folder {self.folder!r} to watch")
        return found

    async def _watch(self) -> None:
        client = await connect(self.name, self.account)
        try:
            self.connected.set()
            while True:
                async with self._lock:
                    result = await sync_folder(self.store, client, await self._state(), self.name)
                if result.new or result.flags or result.gone or result.rebuilt:
                    outcome = self.on_change(result)
                    if outcome is not None:
                        await outcome
                if "IDLE" not in client.capabilities:
                    # A server without IDLE is asked again after a pause instead (no push).
                    await self._sleep(self.poll_seconds)
                    continue
                async with client.idle(self.idle_seconds) as idle:
                    self.idling.set()
                    async for _event in idle:
                        idle.stop()  # any news: leave IDLE and sync the folder
                self.idling.clear()
        finally:
            self.connected.clear()
            self.idling.clear()
            await client.close()
