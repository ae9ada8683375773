"""One reusable IMAP connection per account for the work done on demand: bodies to show,
server searches, Sent copies and drafts.

Opening a connection costs TCP, TLS, LOGIN and a run of the password or token command; a
burst of them also meets the provider's connection limit (Gmail allows about 15). So each
account keeps one connection, logged in, with its folder list (one LIST: SELECT then sends
each name as the server spells it). A lock runs one piece of work at a time. A connection the
server dropped while we were away is opened again before the work starts; an idle one is
logged out after ``idle_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeVar

from tuimail.config_view import ImapAccountSettings
from tuimail.errors import ConnectionLost, MessageNotFound, ProtocolError
from tuimail.sync.folder_roles import name_to_create, with_roles

if TYPE_CHECKING:
    from tuimail.protocols.imap import ImapClient
    from tuimail.protocols.imap_records import FolderInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[["ImapClient"], Awaitable[T]]

IDLE_TIMEOUT: Final = 300.0  # seconds without work before we log out (servers allow 30 min)
# A connection unused this long may have been dropped by the server or a NAT box, silently
# (no FIN, no RST): it is checked with a NOOP before work goes on it, so that a body to show
# does not wait the whole timeout on a dead link and an APPEND never runs twice.
PROBE_AFTER: Final = 20.0
# Seconds the NOOP of that check, and opening a connection, may take: a longer silence is a
# dead network. The work itself keeps the account's timeout (a server may think for a while
# before a large FETCH or SEARCH answers).
DEADLINE: Final = 15.0
# Errors raised after the command's tagged reply was read: the session is still in step with
# us. Any other (a NO is not told apart from a malformed reply) costs the connection.
_ANSWERED = (MessageNotFound,)


class AccountConnection:
    """The one on-demand IMAP connection of an account; ``run`` work on it."""

    def __init__(
        self,
        name: str,
        account: ImapAccountSettings,
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        deadline: float = DEADLINE,
    ) -> None:
        self.name = name
        self.account = account
        self.idle_timeout = idle_timeout
        patience = account.imap.timeout if account.imap is not None else deadline
        self.deadline = min(patience, deadline)
        self.patience = max(patience, deadline)  # for the work itself
        self.folders: list[FolderInfo] = []  # with roles; listed once per connection
        self._client: ImapClient | None = None
        self._lock = asyncio.Lock()
        self._last_used = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_close: asyncio.Task[None] | None = None

    async def run(self, work: Work[T], *, repeatable: bool = True) -> T:
        """Run ``work`` with the logged-in client, alone on it.

        ``repeatable`` work (a FETCH, a SEARCH) is run again on a new connection when the kept
        one turns out to have been dropped; other work (an APPEND) never runs twice. A kept
        connection unused for a while is checked with a NOOP first.
        """
        async with self._lock:
            self._stop_idle_timer()
            try:
                reused = self._client is not None
                client = await self._ready(probe=True)
                try:
                    return await self._attempt(client, work)
                except (ConnectionLost, OSError) as error:
                    if not (reused and repeatable):
                        raise
                    log.info(
                        "%s: IMAP connection was dropped (%s); opening it again", self.name, error
                    )
                    return await self._attempt(await self._ready(probe=False), work)
            finally:
                self._last_used = time.monotonic()
                self._start_idle_timer()

    async def role_folder(self, client: ImapClient, role: str) -> str:
        """The name of the folder with ``role`` (Sent, Drafts), created when there is none.

        Call it inside ``run``.
        """
        found = next((f for f in self.folders if f.role == role), None)
        if found is not None:
            return found.name
        name = name_to_create(role, self.account)
        await client.create_folder(name)
        await self._list(client)
        return name

    async def close(self) -> None:
        """LOGOUT, after the running work (if any) finishes."""
        self._stop_idle_timer()
        pending = self._idle_close
        if pending is not None and pending is not asyncio.current_task():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        async with self._lock:
            await self._logout()

    async def _ready(self, probe: bool) -> ImapClient:
        client = self._client
        if client is not None and probe and time.monotonic() - self._last_used > PROBE_AFTER:
            try:
                await client.noop()  # the connection's waits are short (``deadline``)
            except (ConnectionLost, OSError):
                await self._drop()
                client = None
        if client is None:
            from tuimail.sync.imap_connect import connect  # the IMAP client loads on first use

            client = await connect(self.name, self.account, timeout=self.deadline)
            self._client = client
            try:
                with client.patience(self.patience):
                    await self._list(client)
            except BaseException:
                await self._drop()
                raise
        return client

    async def _list(self, client: ImapClient) -> None:
        self.folders = with_roles(await client.list_folders(), self.account)

    async def _attempt(self, client: ImapClient, work: Work[T]) -> T:
        try:
            with client.patience(self.patience):
                result = await work(client)
        except _ANSWERED:
            client.take_events()
            raise
        except BaseException:
            # Cut off mid-command (lost, cancelled): the replies no longer match the commands.
            await self._drop()
            raise
        client.take_events()  # news about the folder is the sync's business, not ours
        return result

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _logout(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await client.logout()
        except (ProtocolError, OSError) as error:
            log.info("%s: IMAP LOGOUT failed: %s", self.name, error)
            await client.close()

    def _start_idle_timer(self) -> None:
        if self._client is not None:
            loop = asyncio.get_running_loop()
            self._idle_timer = loop.call_later(self.idle_timeout, self._idle_expired)

    def _stop_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _idle_expired(self) -> None:
        self._idle_timer = None
        self._idle_close = asyncio.get_running_loop().create_task(self._close_if_idle())

    async def _close_if_idle(self) -> None:
        async with self._lock:
            if self._idle_timer is None:  # no work started since the timer fired
                await self._logout()


class ImapRemote:
    """The on-demand IMAP connections of every account; ``close`` them on the way out."""

    def __init__(self, *, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.idle_timeout = idle_timeout
        self._connections: dict[str, AccountConnection] = {}
        self._retired: list[AccountConnection] = []  # of an account whose settings changed

    def connection(self, name: str, account: ImapAccountSettings) -> AccountConnection:
        """The account's connection (opened by its first piece of work)."""
        found = self._connections.get(name)
        if found is None or found.account != account:
            if found is not None:
                self._retired.append(found)
            found = AccountConnection(name, account, idle_timeout=self.idle_timeout)
            self._connections[name] = found
        return found

    async def close(self) -> None:
        """Log every account out."""
        connections = [*self._connections.values(), *self._retired]
        self._connections.clear()
        self._retired.clear()
        for connection in connections:
            await connection.close()

    async def __aenter__(self) -> ImapRemote:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


@contextlib.asynccontextmanager
async def connection_for(
    remote: ImapRemote | None, name: str, account: ImapAccountSettings
) -> AsyncIterator[AccountConnection]:
    """The account's connection in ``remote``; without one, a connection for this use only."""
    if remote is not None:
        yield remote.connection(name, account)
        return
    async with ImapRemote() as own:
        yield own.connection(name, account)
