"""The POP3 wire: one connection's read buffer, status lines and multi-line framing.

We own the read buffer (an ``asyncio.Protocol``) rather than use ``asyncio.StreamReader``:
on Python 3.11 a StreamReader keeps its buffered plaintext across ``StreamWriter.start_tls``,
so bytes a server injects before the TLS handshake would be read as if they came over TLS.
Owning the buffer lets STARTTLS drop them, and lets us see unsolicited bytes before a command.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from typing import cast

from tuimail.errors import ConnectionLost, ProtocolError, TLSError
from tuimail.protocols.server_text import clean_server_text, format_size

log = logging.getLogger("tuimail.protocols.pop3")

# Reading from the socket pauses when this much is waiting and nobody asked for more, so a
# server pushing unrequested data cannot grow the buffer without bound.
_HIGH_WATER = 1024 * 1024
# A line holding only "." ends a multi-line reply; bare LF is accepted from broken servers.
_TERMINATOR = re.compile(rb"\n\.\r?\n")


class Pop3Wire(asyncio.Protocol):
    """The bytes of one POP3 connection; every read is bounded in time and size.

    Any error this class raises leaves the connection aborted, because after a timeout,
    an overlong line or an oversized reply we no longer know where the next reply starts.
    """

    def __init__(self, label: str, timeout: float, max_line_length: int) -> None:
        self.label = label
        self._timeout = timeout
        self._max_line_length = max_line_length
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        # After a status line or a multi-line reply we leave its final LF in the buffer: a
        # terminator on the first line of a body then matches the same "\n.\r\n" as any other.
        self._pending_lf = False
        self._waiter: asyncio.Future[None] | None = None
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
        self._wake()

    def eof_received(self) -> bool | None:
        self._eof = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._transport = None
        self._wake()
        if not self._lost.done():
            self._lost.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # Writing

    @property
    def is_open(self) -> bool:
        """True while commands can still be sent."""
        return self._transport is not None and not self._transport.is_closing() and not self._eof

    def send(self, *lines: bytes) -> None:
        """Send command lines in one write (a pipelined burst is one packet); CRLF is added."""
        if any(b"\r" in line or b"\n" in line for line in lines):
            # Callers validate user input; this guards against a command smuggling a second one.
            raise ProtocolError("refusing to send a POP3 command containing a line break")
        if self._transport is None or not self.is_open:
            raise ConnectionLost(f"the connection to POP3 server {self.label} is closed")
        self._transport.write(b"".join(line + b"\r\n" for line in lines))

    # Reading

    def has_unread_data(self) -> bool:
        """True when the server sent bytes that no command has asked for yet."""
        return len(self._buffer) > int(self._pending_lf)

    async def read_status_line(self) -> bytes:
        """Read one reply line and return it without its line ending."""
        if self._pending_lf:
            del self._buffer[:1]
            self._pending_lf = False
        scanned = 0
        while (end := self._buffer.find(b"\n", scanned)) < 0:
            scanned = len(self._buffer)
            if scanned > self._max_line_length:
                self._fail_too_long()
            await self._fill()
        if end > self._max_line_length:
            self._fail_too_long()
        line = bytes(self._buffer[:end])
        del self._buffer[:end]
        self._pending_lf = True
        if line.endswith(b"\r"):
            line = line[:-1]
        if log.isEnabledFor(logging.DEBUG):  # not cleaned for nothing, once per message
            log.debug("S: %s", clean_server_text(line))
        return line

    async def read_body(self, limit: int, what: str) -> bytes:
        """Read the body of a multi-line reply, dot-unstuffed, line endings kept as sent.

        ``limit`` caps the unstuffed size; ``what`` names the reply in the error message.
        """
        if not self._pending_lf:
            raise RuntimeError("read_body must follow read_status_line")
        scan = 0  # where the terminator search resumes
        counted = 0  # stuffing dots are counted up to here, to measure the unstuffed size
        stuffed = 0
        while (match := _TERMINATOR.search(self._buffer, scan)) is None:
            size = len(self._buffer)
            stuffed += self._buffer.count(b"\n.", counted, size)
            counted = max(0, size - 1)
            if size - 1 - stuffed > limit:
                self.abort()
                raise ProtocolError(
                    f"POP3 server {self.label} sent more than {format_size(limit)} for {what} "
                    "(the max_message_size limit); connection closed"
                )
            scan = max(0, size - 3)
            await self._fill()
        body_end = match.start() + 1
        if self._buffer.find(b"\n.", 0, body_end) < 0:
            with memoryview(self._buffer) as view, view[1:body_end] as body_view:
                body = bytes(body_view)
        else:
            # Every line starting with "." was stuffed by the server; the leading LF we kept
            # makes the first line match too. One C-level replace keeps 100 MiB fast.
            unstuffed = self._buffer[:body_end].replace(b"\n.", b"\n")
            with memoryview(unstuffed) as view, view[1:] as body_view:
                body = bytes(body_view)
        del self._buffer[: match.end() - 1]
        if len(body) > limit:
            self.abort()
            raise ProtocolError(
                f"{what} from POP3 server {self.label} is larger than {format_size(limit)} "
                "(the max_message_size limit); connection closed"
            )
        return body

    def _fail_too_long(self) -> None:
        self.abort()
        raise ProtocolError(
            f"POP3 server {self.label} sent a reply line longer than "
            f"{format_size(self._max_line_length)}; connection closed"
        )

    async def _fill(self) -> None:
        """Wait for more bytes; ConnectionLost on timeout or when the server has gone."""
        if self._eof:
            self.abort()
            raise ConnectionLost(f"POP3 server {self.label} closed the connection unexpectedly")
        if self._paused and self._transport is not None:
            self._transport.resume_reading()
            self._paused = False
        waiter = self._waiter = self._loop.create_future()
        try:
            async with asyncio.timeout(self._timeout):
                await waiter
        except TimeoutError:
            self.abort()
            raise ConnectionLost(
                f"POP3 server {self.label} did not answer within {self._timeout:g} s"
            ) from None
        except asyncio.CancelledError:
            # Cancelled halfway through a reply: the rest of it would be read as the next one.
            self.abort()
            raise
        finally:
            self._waiter = None

    # TLS and closing

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        """Upgrade to TLS after STLS, discarding anything the server sent before it."""
        if self.has_unread_data():
            log.warning(
                "POP3 server %s sent %d bytes after +OK to STLS; discarded (possible injection)",
                self.label,
                len(self._buffer) - int(self._pending_lf),
            )
        self._buffer.clear()
        self._pending_lf = False
        if self._transport is None:
            raise ConnectionLost(f"the connection to POP3 server {self.label} is closed")
        try:
            async with asyncio.timeout(self._timeout):
                transport = await self._loop.start_tls(
                    self._transport,
                    self,
                    context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=self._timeout,
                    ssl_shutdown_timeout=self._timeout,
                )
        except TimeoutError:
            self.abort()
            raise TLSError(f"TLS handshake with POP3 server {self.label} timed out") from None
        except (ssl.SSLError, OSError) as error:
            self.abort()
            raise tls_error(self.label, error) from error
        if transport is None:  # only for protocols that are not ours
            self.abort()
            raise TLSError(f"TLS upgrade with POP3 server {self.label} failed")
        self._transport = transport
        self._paused = False

    def abort(self) -> None:
        """Drop the connection at once, unsent data and all."""
        self._eof = True
        self._buffer.clear()
        self._pending_lf = False
        if self._transport is not None:
            self._transport.abort()

    async def close(self) -> None:
        """Close politely, waiting a bounded time for the transport to finish."""
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.close()
        if self._lost.done() or transport is None:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.shield(self._lost)
        except TimeoutError:
            transport.abort()


def tls_error(label: str, error: Exception) -> TLSError:
    """A one-line TLSError for a failed handshake."""
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or str(error)
        return TLSError(f"POP3 server {label} has an untrusted TLS certificate: {reason}")
    reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
    return TLSError(f"TLS handshake with POP3 server {label} failed: {reason}")


async def open_wire(
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
    max_line_length: int,
) -> Pop3Wire:
    """Connect (with implicit TLS when ``ssl_context`` is given) and return the wire."""
    label = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    loop = asyncio.get_running_loop()
    wire = Pop3Wire(label, timeout, max_line_length)
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
        raise ConnectionLost(f"POP3 server {label} did not answer within {timeout:g} s") from None
    except ssl.SSLError as error:
        raise tls_error(label, error) from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConnectionLost(f"could not connect to POP3 server {label}: {reason}") from error
    return wire
