"""A TCP relay that can let the network die silently: no FIN, no RST, just no bytes.

A laptop that sleeps or a NAT box that forgets a connection leaves both ends' sockets open;
whatever is sent is lost and nothing says so. ``pause()`` does that between a client and a
server: both sockets stay open and every byte in either direction is dropped, and a
connection made while paused is accepted and then hears nothing, like a handshake lost on
the way. ``resume()`` passes bytes again, but what was dropped stays lost, so a connection
that lived through the pause is out of step with its server: only the client can tell it is
dead, by asking and getting no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Relay:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port`` until closed."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = "127.0.0.1"
        self.port = 0
        self.accepted = 0  # connections accepted so far
        self.dropped = 0  # bytes thrown away while paused
        self._paused = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._news = asyncio.Condition()

    async def start(self) -> None:
        """Listen on a free port (``port``)."""
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def pause(self) -> None:
        """Stop passing bytes, closing nothing: what arrives from now on is dropped."""
        self._paused = True

    def resume(self) -> None:
        """Pass bytes again (what was dropped stays lost)."""
        self._paused = False

    async def wait_accepted(self, count: int) -> None:
        """Wait until ``count`` connections have been accepted in all."""
        async with self._news:
            await self._news.wait_for(lambda: self.accepted >= count)

    async def close(self) -> None:
        """Stop listening and cut every relayed connection."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        # Cut off, each connection's pumps see the end and return; none is cancelled (asyncio
        # reports a cancelled connection handler as an error).
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client_out)
        async with self._news:
            self.accepted += 1
            self._news.notify_all()
        try:
            server_in, server_out = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            client_out.transport.abort()
            self._writers.discard(client_out)
            self._tasks.discard(task)
            return
        self._writers.add(server_out)
        try:
            await asyncio.gather(
                self._pump(client_in, server_out), self._pump(server_in, client_out)
            )
        except OSError:
            pass  # one side reset: the other is cut below
        finally:
            for writer in (client_out, server_out):
                writer.transport.abort()
                self._writers.discard(writer)
            self._tasks.discard(task)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            if self._paused:
                self.dropped += len(data)
                continue
            sink.write(data)
            await sink.drain()
        # An end the peer really sent (not our pause) is passed on.
        if not self._paused and sink.can_write_eof():
            sink.write_eof()


@contextlib.asynccontextmanager
async def relay_to(host: str, port: int) -> AsyncIterator[Relay]:
    """A started relay to ``host``:``port``, closed on the way out."""
    relay = Relay(host, port)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()
