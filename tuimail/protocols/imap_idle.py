"""IDLE (RFC 2177): wait for the server to push news about the selected folder.

``async with client.idle(timeout) as idle: async for event in idle: ...`` sends IDLE, yields
events as they arrive, and ends the iteration when ``timeout`` passes or :meth:`stop` is
called; leaving the block sends DONE and reads the command's end. Events that arrive after
DONE are kept for ``ImapClient.take_events``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

from tuimail.errors import ProtocolError
from tuimail.protocols.imap_parse import StatusText, parse_tagged
from tuimail.protocols.imap_records import ServerEvent
from tuimail.protocols.imap_session import ImapSession


class IdleSession:
    """A running IDLE command; iterate it for events."""

    def __init__(self, session: ImapSession, tag: bytes, timeout: float) -> None:
        self._session = session
        self._tag = tag
        self._deadline = asyncio.get_running_loop().time() + timeout
        self._events: deque[ServerEvent] = deque(session.take_events())
        self._stopped = False
        self._ended: tuple[str, StatusText] | None = None  # the server ended IDLE itself

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, session: ImapSession, timeout: float) -> AsyncIterator[IdleSession]:
        """Start IDLE, yield the running session, and end it with DONE."""
        if "IDLE" not in session.capabilities:
            raise ProtocolError(f"IMAP server {session.label} does not support IDLE")
        with session.exclusive("IDLE"):
            tag = session.next_tag()
            refusal = await session.send(tag, [b"IDLE"], "IDLE", None)
            if refusal is None:
                refusal = await session.wait_continuation(tag)
            if refusal is not None:
                raise session.refused("IDLE", *refusal)
            idle = cls(session, tag, timeout)
            try:
                yield idle
            except BaseException:
                # Mid-IDLE and failing (or cancelled): we cannot tell what the server will
                # send next, so the connection goes rather than the caller waiting on DONE.
                session.wire.abort()
                raise
            await idle._done()

    def stop(self) -> None:
        """End the iteration soon, from any task on the event loop."""
        self._stopped = True
        self._session.wire.interrupt()

    def __aiter__(self) -> IdleSession:
        return self

    async def __anext__(self) -> ServerEvent:
        wire = self._session.wire
        loop = asyncio.get_running_loop()
        while not self._events:
            if self._stopped or self._ended is not None:
                raise StopAsyncIteration
            response = wire.next_response()
            if response is None:
                remaining = self._deadline - loop.time()
                if remaining <= 0 or not await wire.wait_readable(remaining):
                    raise StopAsyncIteration
                continue
            if response.startswith(self._tag + b" "):
                self._ended = parse_tagged(response, self._tag)
                continue
            self._session.dispatch(response)
            self._events.extend(self._session.take_events())
            # News is what IDLE is for, and it is handed on as it comes: nothing piles up.
            self._session.unclaimed = 0
        return self._events.popleft()

    async def _done(self) -> None:
        session = self._session
        if self._ended is None:
            session.wire.send(b"DONE\r\n")
            self._ended = await session.finish(self._tag)
        # Events we did not hand out go back to the session, for take_events().
        session.events[:0] = list(self._events)
        status, text = self._ended
        if status != "OK":
            raise session.refused("IDLE", status, text)
