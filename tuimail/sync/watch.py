"""Watching the open folder: IDLE on a connection of its own, a sync on every change.

New mail shows up as soon as the server announces it (within the IDLE round trip), without
polling. Each pass first sends the account's queued actions, on the watcher's own connection: a
message moved or deleted here is gone on the server before the folder is compared, a flag set
here is not undone by the server's older one, and a change the user makes (a message read) ends
the IDLE and reaches the server within the round trip, not at the next full sync.

The connection comes back after network trouble with exponential backoff and jitter; a refused
login ends the watch (retrying a wrong password helps nobody).

A network can also die silently (a laptop asleep, a NAT box that forgot us): no FIN, no RST,
the socket looks open and IDLE just hears nothing. So IDLE is ended and issued again every
``keepalive`` seconds, and the server must answer each step within ``deadline`` seconds;
when it does not, the connection is dropped (no LOGOUT into the void) and opened again. The
budget, with the defaults: a dead connection is given up at most KEEPALIVE + DEADLINE = 35 s
after it died. While the network is still down each reconnect fails within DEADLINE (15 s)
and waits at most RECONNECT_MAX (20 s) before the next, so once the network is back the
attempt under way fails within 15 s, the wait after it ends within 20 s, and the next
connect and pass of the folder take a few seconds: new mail is on screen within about 40 s of
the return (and within 35 s + a few of the death when the network came back before that),
inside the 60 s we promise for an outage of up to a minute.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tuimail.config import AccountConfig
from tuimail.errors import AuthError, ConnectionLost, MessageNotFound, ProtocolError
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState
from tuimail.sync import actions
from tuimail.sync.imap_connect import connect
from tuimail.sync.imap_sync import FolderResult, sync_folder

if TYPE_CHECKING:
    from tuimail.protocols.imap import ImapClient

log = logging.getLogger(__name__)

IDLE_SECONDS = 25 * 60  # a pass of the folder at least this often, news or not
POLL_SECONDS = 60.0  # the open folder of a server without IDLE is synced this often
KEEPALIVE = 20.0  # IDLE is ended and issued again this often: is the server still there?
# A short exchange (the answer to DONE or IDLE, a NOOP, a login) that takes longer than this
# means the connection is dead. The work after it (queued actions, the pass over the folder)
# keeps the account's timeout: a server may think for a while before a MOVE of thousands or
# a large FETCH answers, and the answer to DONE has just shown the connection alive.
DEADLINE = 15.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0  # after a protocol error: the server will not do better soon
RECONNECT_MAX = 20.0  # after a network failure: the network's return is noticed quickly

ChangeCallback = Callable[[FolderResult], Awaitable[None] | None]


def backoff_delay(
    attempt: int, rng: Callable[[], float] = random.random, cap: float = BACKOFF_MAX
) -> float:
    """Seconds before reconnect ``attempt`` (0-based): doubling, capped, with 50-100% jitter."""
    base: float = min(cap, BACKOFF_FIRST * 2.0**attempt)
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
        keepalive: float = KEEPALIVE,
        deadline: float = DEADLINE,
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
        self.keepalive = keepalive
        self.deadline = deadline
        self._connections = 0  # made so far: a reconnect after one that worked starts afresh
        # Held around each sync of the folder: a whole-account sync in the same process takes
        # it too, so two passes never insert the same new messages at once.
        self._lock = lock or asyncio.Lock()
        self.connected = asyncio.Event()  # set while a connection is up (the offline indicator)
        self.idling = asyncio.Event()  # set while the server may push news to us
        self.passed = asyncio.Event()  # set after each pass over the folder

    async def run(self) -> None:
        """Watch until cancelled; raises AuthError when the server refuses the login."""
        attempt = 0
        while True:
            connections = self._connections
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
                if self._connections != connections:
                    attempt = 0  # it was up: this is a new outage, not more of the last one
                cap = BACKOFF_MAX if isinstance(exc, ProtocolError) else RECONNECT_MAX
                delay = backoff_delay(attempt, self._rng, cap)
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
        # Every wait on this connection is short, but for the work under the lock.
        patience = self.account.imap.timeout if self.account.imap is not None else DEADLINE
        client = await connect(self.name, self.account, timeout=min(patience, self.deadline))
        self._connections += 1
        try:
            self.connected.set()
            account_pk = (await self._state()).account_id
            with actions.queued_signal(self.store, account_pk) as queued:
                while True:
                    async with self._lock:
                        queued.clear()  # what is queued from now on wakes the next pass
                        with client.patience(max(patience, self.deadline)):
                            await actions.replay(self.store, client, account_pk)
                            state = await self._state()
                            result = await sync_folder(self.store, client, state, self.name)
                    self.passed.set()
                    if result.new or result.flags or result.gone or result.rebuilt:
                        outcome = self.on_change(result)
                        if outcome is not None:
                            await outcome
                    await self._wait_for_news(client, queued)
        finally:
            self.connected.clear()
            self.idling.clear()
            await client.close()

    async def _wait_for_news(self, client: ImapClient, queued: asyncio.Event) -> None:
        """Until the server announces a change, the user queues one, or it is time for a pass."""
        if "IDLE" not in client.capabilities:
            # A server without IDLE is asked again after a pause instead (no push), and a
            # NOOP finds out within the deadline whether it is still there at all.
            await _first_of(self._sleep(self.poll_seconds), queued.wait())
            await client.noop()
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + self.idle_seconds
        try:
            while not queued.is_set() and (left := until - loop.time()) > 0:
                # Each round ends with DONE and the server's answer, within the deadline: a
                # connection that died silently is found out here.
                if await self._idle_round(client, queued, min(self.keepalive, left)):
                    return
        finally:
            self.idling.clear()

    async def _idle_round(self, client: ImapClient, queued: asyncio.Event, seconds: float) -> bool:
        """One IDLE of ``seconds`` at most; True when the server had news."""
        news = False
        async with client.idle(seconds) as idle:
            self.idling.set()

            async def stop_when_queued() -> None:
                await queued.wait()
                idle.stop()

            # A task, cancelled as the IDLE ends: its stop never lands on a later command.
            waker = asyncio.create_task(stop_when_queued())
            try:
                async for _event in idle:
                    news = True
                    idle.stop()  # any news: leave IDLE and sync the folder
            finally:
                waker.cancel()
        return news


async def _first_of(*waits: Awaitable[object]) -> None:
    """Wait until one of ``waits`` is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
