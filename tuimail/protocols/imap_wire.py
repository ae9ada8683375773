"""The IMAP wire: one connection's read buffer, cut into complete responses with their literals.

Like ``pop3_wire`` we own the buffer (an ``asyncio.Protocol``) so that STARTTLS can throw away
whatever arrived before the handshake, and so that every wait has a deadline and every size a
limit. A response is a line ending in CRLF; a line ending in ``{n}`` announces n bytes of
literal that belong to the same response, and the announcement is checked against the limit
before a single byte of it is read.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from typing import cast

from tuimail.errors import ConnectionLost, ProtocolError, TLSError
from tuimail.protocols.server_text import format_size

log = logging.getLogger("tuimail.protocols.imap")

# Reading pauses when this much waits unread and nobody asked for more, so a server pushing
# data we did not ask for cannot grow the buffer without bound.
_HIGH_WATER = 4 * 1024 * 1024
_LITERAL_AT_END = re.compile(rb"\{(\d{1,20})\+?\}\Z")


class ImapWire(asyncio.Protocol):
    """The bytes of one IMAP connection; every read is bounded in time and size.

    An error raised here leaves the connection aborted: after a timeout or an oversized
    response we no longer know where the next response starts.
    """

    def __init__(
        self, label: str, timeout: float, max_line_length: int, max_literal_size: int
    ) -> None:
        self.label = label
        self.timeout = timeout
        self._max_line = max_line_length
        self._max_literal = max_literal_size
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        # Progress through the response being assembled, kept so that a response arriving
        # in many pieces (a 50 MB message) is scanned once, not once per piece.
        self._scan = 0  # where the search for the next CRLF resumes
        self._line_start = 0  # start of the current line (after the last literal)
        self._need = 0  # the buffer must hold this many bytes before anything can complete
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None  # set while the transport is full
        self._paused = False
        self._eof = False
        self._lost: asyncio.Future[None] = self._loop.create_future()

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > _HIGH_WATER and not self._paused and self._transport is not None:
            self._transport.pause_reading()
            self._paused = True
        # Woken even when a literal is still incomplete: the read timeout is for silence,
        # not for the whole transfer, so every arrival must restart it.
        self._wake()

    def eof_received(self) -> bool | None:
        self._eof = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._transport = None
        self._wake()
        self.resume_writing()
        if not self._lost.done():
            self._lost.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # Writing

    @property
    def is_open(self) -> bool:
        """True while commands can still be sent."""
        return self._transport is not None and not self._transport.is_closing() and not self._eof

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

    def has_unread_data(self) -> bool:
        """True when the server sent bytes that no command has read yet."""
        return bool(self._buffer)

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

    async def fill(self, timeout: float | None = None) -> None:
        """Wait for more bytes, at most ``timeout`` (default: the wire's) seconds."""
        limit = self.timeout if timeout is None else timeout
        try:
            arrived = await self._wait_for_data(limit)
        except asyncio.CancelledError:
            # Cancelled halfway through a response: the rest would be read as the next one.
            self.abort()
            raise
        if not arrived:
            self.abort()
            raise ConnectionLost(f"IMAP server {self.label} did not answer within {limit:g} s")

    async def wait_readable(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for a complete response without failing; False if none came."""
        if self.next_response_ready():
            return True
        return await self._wait_for_data(timeout)

    async def _wait_for_data(self, timeout: float) -> bool:
        """Wait until bytes arrive (or :meth:`interrupt`); False when ``timeout`` ran out."""
        if self._eof:
            self.abort()
            raise ConnectionLost(f"IMAP server {self.label} closed the connection unexpectedly")
        if self._paused and self._transport is not None:
            self._transport.resume_reading()
            self._paused = False
        waiter = self._waiter = self._loop.create_future()
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            return False
        finally:
            self._waiter = None
        return True

    def interrupt(self) -> None:
        """Wake whoever waits in :meth:`wait_readable` (to stop an IDLE, say)."""
        self._wake()

    def next_response_ready(self) -> bool:
        """True when a complete response, or at least new bytes for one, are buffered."""
        return bool(self._buffer) and len(self._buffer) >= self._need

    # TLS and closing

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        """Upgrade to TLS after STARTTLS, discarding anything the server sent before it."""
        if self._buffer:
            # Nothing may follow the tagged OK in plaintext: this is how STARTTLS injection
            # (CVE-2011-0411 and friends) smuggles a forged response into the TLS session.
            log.warning(
                "IMAP server %s sent %d bytes after its OK to STARTTLS; discarded",
                self.label,
                len(self._buffer),
            )
        self._buffer.clear()
        self._scan = self._line_start = self._need = 0
        if self._transport is None or self._eof:
            raise ConnectionLost(f"the connection to IMAP server {self.label} is closed")
        if self._paused:
            self._transport.resume_reading()
            self._paused = False
        try:
            async with asyncio.timeout(self.timeout):
                transport = await self._loop.start_tls(
                    self._transport,
                    self,
                    context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=self.timeout,
                    ssl_shutdown_timeout=self.timeout,
                )
        except TimeoutError:
            self.abort()
            raise TLSError(f"TLS handshake with IMAP server {self.label} timed out") from None
        except (ssl.SSLError, OSError) as error:
            self.abort()
            raise tls_error(self.label, error) from error
        if transport is None:  # only for protocols that are not ours
            self.abort()
            raise TLSError(f"TLS upgrade with IMAP server {self.label} failed")
        self._transport = transport

    def abort(self) -> None:
        """Drop the connection at once, unsent data and all."""
        self._eof = True
        self._buffer.clear()
        self._scan = self._line_start = self._need = 0
        if self._transport is not None:
            self._transport.abort()

    async def close(self) -> None:
        """Close politely, waiting a bounded time for the transport to finish."""
        transport = self._transport
        self._eof = True
        if transport is not None and not transport.is_closing():
            transport.close()
        if self._lost.done() or transport is None:
            return
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.shield(self._lost)
        except TimeoutError:
            transport.abort()


def tls_error(label: str, error: Exception) -> TLSError:
    """A one-line TLSError for a failed handshake."""
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or str(error)
        return TLSError(f"IMAP server {label} has an untrusted TLS certificate: {reason}")
    reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
    return TLSError(f"TLS handshake with IMAP server {label} failed: {reason}")


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
    label = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    loop = asyncio.get_running_loop()
    wire = ImapWire(label, timeout, max_line_length, max_literal_size)
    try:
        async with asyncio.timeout(timeout):
            if ssl_context is None:
                await loop.create_connection(lambda: wire, host, port)
            else:
                await loop.create_connection(
                    lambda: wire,
                    host,
                    port,
                    ssl=ssl_context,
                    server_hostname=host,
                    ssl_handshake_timeout=timeout,
                    ssl_shutdown_timeout=timeout,
                )
    except TimeoutError:
        raise ConnectionLost(f"IMAP server {label} did not answer within {timeout:g} s") from None
    except ssl.SSLError as error:
        raise tls_error(label, error) from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConnectionLost(f"could not connect to IMAP server {label}: {reason}") from error
    return wire
