"""The IMAP wire: one connection's read buffer, cut into complete responses with their literals.

The buffer is ours (``wire.Wire``) so that STARTTLS can throw away whatever arrived before the
handshake, and so that every wait has a deadline and every size a limit. A response is a line
ending in CRLF; a line ending in ``{n}`` announces n bytes of literal that belong to the same
response, and the announcement is checked against the limit before a single byte of it is read.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from typing import Final

from tuimail.errors import ConnectionLost, ProtocolError
from tuimail.protocols.server_text import format_size
from tuimail.protocols.wire import Wire, connect

log = logging.getLogger("tuimail.protocols.imap")

_LITERAL_AT_END: Final = re.compile(rb"\{(\d{1,20})\+?\}\Z")


class ImapWire(Wire):
    """The bytes of one IMAP connection; every read is bounded in time and size.

    An error raised here leaves the connection aborted: after a timeout or an oversized
    response we no longer know where the next response starts.
    """

    PROTOCOL = "IMAP"
    TLS_REPLY = "its OK to STARTTLS"
    HIGH_WATER = 4 * 1024 * 1024
    log = log

    def __init__(
        self, label: str, timeout: float, max_line_length: int, max_literal_size: int
    ) -> None:
        super().__init__(label, timeout)
        self._max_line = max_line_length
        self._max_literal = max_literal_size
        # Progress through the response being assembled, kept so that a response arriving
        # in many pieces (a 50 MB message) is scanned once, not once per piece.
        self._scan = 0  # where the search for the next CRLF resumes
        self._line_start = 0  # start of the current line (after the last literal)
        self._need = 0  # the buffer must hold this many bytes before anything can complete

    # Writing

    def send(self, data: bytes) -> None:
        """Write bytes as they are; the caller has framed them (CRLF, literals)."""
        if self._transport is None or not self.is_open:
            raise ConnectionLost(f"the connection to IMAP server {self.label} is closed")
        self._transport.write(data)

    async def drain(self) -> None:
        """Wait until what we wrote has gone out, failing after ``timeout`` without progress.

        A 50 MB APPEND over a slow link takes longer than any sensible timeout, and the server
        stays silent until it has all of it; waiting here keeps that silence from counting.
        """
        while self._writable is not None and not self._writable.done():
            try:
                async with asyncio.timeout(self.timeout):
                    await asyncio.shield(self._writable)
            except TimeoutError:
                self.abort()
                raise ConnectionLost(
                    f"IMAP server {self.label} stopped reading for {self.timeout:g} s"
                ) from None
        if self._eof and self._transport is None:
            raise ConnectionLost(f"IMAP server {self.label} closed the connection unexpectedly")

    # Reading

    def next_response(self) -> bytes | None:
        """Cut one complete response (without its final CRLF) from the buffer, or None."""
        responses = self._cut(1)
        return responses[0] if responses else None

    def next_responses(self) -> list[bytes]:
        """Cut every complete response from the buffer; [] when none is complete yet."""
        return self._cut(-1)

    def _cut(self, limit: int) -> list[bytes]:
        # One pass over the buffer for a whole batch: a header sync cuts 100k responses, and
        # per-response bookkeeping was a tenth of its time.
        buffer = self._buffer
        responses: list[bytes] = []
        if len(buffer) < self._need:
            return responses
        # A batch scans a snapshot (slicing bytes is one copy, a bytearray two); a single
        # response is cut from the buffer itself, so that reading one at a time from a large
        # buffer does not copy all of it each time.
        data: bytes | bytearray = buffer if limit == 1 else bytes(buffer)
        size = len(data)
        find = data.find
        start = 0  # where the response being cut starts
        pos = self._scan
        line_start = self._line_start
        max_line = self._max_line
        while True:
            end = find(b"\r\n", pos)
            if end < 0:
                if size - line_start > max_line:
                    self._fail_too_long()
                self._scan, self._need = max(pos, size - 1) - start, size + 1 - start
                break
            if end - line_start > max_line:
                self._fail_too_long()
            if end and data[end - 1] == 0x7D:  # "}": maybe a literal follows
                match = _LITERAL_AT_END.search(data, max(line_start, end - 24), end)
                if match is not None:
                    pos = line_start = self._skip_literal(int(match[1]), end + 2 - start) + start
                    if pos > size:
                        self._scan = pos - start
                        self._need = pos + 2 - start
                        break
                    continue
            responses.append(bytes(data[start:end]))
            start = pos = line_start = end + 2
            if len(responses) == limit:
                self._scan = self._need = 0
                break
        self._line_start = line_start - start
        if start:
            del buffer[:start]
        return responses

    def _skip_literal(self, size: int, start: int) -> int:
        """Account for a literal of ``size`` bytes at ``start``; return where the line resumes."""
        # The response so far starts at the buffer's start, so ``start + size`` is its size.
        if size > self._max_literal or start + size > self._max_literal + self._max_line:
            self.abort()
            raise ProtocolError(
                f"IMAP server {self.label} announced {format_size(size)} of data, over the "
                f"{format_size(self._max_literal)} limit; connection closed"
            )
        return start + size

    def _fail_too_long(self) -> None:
        self.abort()
        raise ProtocolError(
            f"IMAP server {self.label} sent a response line longer than "
            f"{format_size(self._max_line)}; connection closed"
        )

    async def read_response(self, timeout: float | None = None) -> bytes:
        """Wait for the next complete response; ConnectionLost on timeout or hang-up."""
        while (response := self.next_response()) is None:
            await self.fill(timeout)
        return response

    async def wait_readable(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for a complete response without failing; False if none came."""
        if self.next_response_ready():
            return True
        return await self._wait_for_data(timeout)

    def interrupt(self) -> None:
        """Wake whoever waits in :meth:`wait_readable` (to stop an IDLE, say)."""
        self._wake()

    def next_response_ready(self) -> bool:
        """True when a complete response, or at least new bytes for one, are buffered."""
        return bool(self._buffer) and len(self._buffer) >= self._need

    def _forget_buffer(self) -> None:
        self._buffer.clear()
        self._scan = self._line_start = self._need = 0


async def open_wire(
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
    max_line_length: int,
    max_literal_size: int,
) -> ImapWire:
    """Connect (with implicit TLS when ``ssl_context`` is given) and return the wire."""
    return await connect(
        lambda label: ImapWire(label, timeout, max_line_length, max_literal_size),
        host,
        port,
        ssl_context=ssl_context,
        timeout=timeout,
    )
