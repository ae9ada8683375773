"""A loopback stream server that stops completely: listener closed, connections closed, tasks done.

``asyncio.Server.close`` only stops accepting; the connections already open go on (and on
Python 3.12+ ``wait_closed`` waits for them). The demo must leave nothing behind when the user
quits, so every connection's task is tracked here and cancelled on ``stop``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LoopbackListener:
    """Serve ``handler`` on a free port of ``host`` until :meth:`stop`."""

    def __init__(self, name: str, handler: StreamHandler) -> None:
        self.name = name
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, host: str) -> int:
        """Listen on a port the system picks (no race with another process); returns it."""
        self._server = await asyncio.start_server(self._connection, host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a stream callback always runs in a task
        self._tasks.add(task)
        try:
            await self._handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.debug("%s: connection ended: %s", self.name, exc)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def stop(self) -> None:
        """Stop listening, end every open connection and wait until their tasks are done."""
        if self._server is None:
            return
        self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
