"""TCP relays between a client and a real test server on 127.0.0.1.

``Relay`` passes a session through, both ways at once; subclasses (here, in
``tests/reliability/proxies.py`` and beside their tests) say what each direction does.

``SilentRelay`` can let the network die silently: no FIN, no RST, just no bytes. A laptop that
sleeps or a NAT box that forgets a connection leaves both ends' sockets open; whatever is sent
is lost and nothing says so. ``pause()`` does that: both sockets stay open and every byte in
either direction is dropped, and a connection made while paused is accepted and then hears
nothing, like a handshake lost on the way. ``resume()`` passes bytes again, but what was
dropped stays lost, so a connection that lived through the pause is out of step with its
server: only the client can tell it is dead, by asking and getting no answer.
"""

from __future__ import annotations

import asyncio
from typing import Self

_STREAM_LIMIT = 64 * 1024 * 1024


class Relay:
    """A listening socket on 127.0.0.1 whose sessions are torn down when the block ends."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._track, "127.0.0.1", 0, limit=_STREAM_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection(
            "127.0.0.1", self.upstream_port, limit=_STREAM_LIMIT
        )
        self._writers += [writer, up_writer]
        try:
            await self.relay(reader, writer, up_reader, up_writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # one side hung up: that is how every hostile session ends
        finally:
            writer.transport.abort()
            up_writer.transport.abort()

    async def relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        """One session, both ways at once (a subclass may give the two a state of their own)."""
        await asyncio.gather(self.upward(reader, up_writer), self.downward(up_reader, writer))

    async def upward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def downward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class SilentRelay(Relay):
    """Passes bytes both ways until ``pause()``, then drops them until ``resume()``."""

    def __init__(self, upstream_port: int) -> None:
        super().__init__(upstream_port)
        self.accepted = 0  # sessions accepted so far
        self.dropped = 0  # bytes thrown away while paused
        self._paused = False
        self._news = asyncio.Condition()

    def pause(self) -> None:
        """Stop passing bytes, closing nothing: what arrives from now on is dropped."""
        self._paused = True

    def resume(self) -> None:
        """Pass bytes again (what was dropped stays lost)."""
        self._paused = False

    async def wait_accepted(self, count: int) -> None:
        """Wait until ``count`` sessions have been accepted in all."""
        async with self._news:
            await self._news.wait_for(lambda: self.accepted >= count)

    async def relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        async with self._news:
            self.accepted += 1
            self._news.notify_all()
        await super().relay(reader, writer, up_reader, up_writer)

    async def upward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._pump(reader, writer)

    async def downward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._pump(reader, writer)

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
