"""The POP3 wire: status lines and multi-line framing over ``wire.Wire``'s buffer of our own."""

from __future__ import annotations

import logging
import re
import ssl
from typing import Final

from tuimail.errors import ConnectionLost, ProtocolError
from tuimail.protocols.server_text import clean_server_text, format_size
from tuimail.protocols.wire import Wire, connect

log = logging.getLogger("tuimail.protocols.pop3")

# A line holding only "." ends a multi-line reply; bare LF is accepted from broken servers.
_TERMINATOR: Final = re.compile(rb"\n\.\r?\n")


class Pop3Wire(Wire):
    """The bytes of one POP3 connection; every read is bounded in time and size.

    Any error this class raises leaves the connection aborted, because after a timeout,
    an overlong line or an oversized reply we no longer know where the next reply starts.
    """

    PROTOCOL = "POP3"
    TLS_REPLY = "+OK to STLS"
    HIGH_WATER = 1024 * 1024
    log = log

    def __init__(self, label: str, timeout: float, max_line_length: int) -> None:
        super().__init__(label, timeout)
        self._max_line_length = max_line_length
        # After a status line or a multi-line reply we leave its final LF in the buffer: a
        # terminator on the first line of a body then matches the same "\n.\r\n" as any other.
        self._pending_lf = False

    # Writing

    def send(self, *lines: bytes) -> None:
        """Send command lines in one write (a pipelined burst is one packet); CRLF is added."""
        if any(b"\r" in line or b"\n" in line for line in lines):
            # Callers validate user input; this guards against a command smuggling a second one.
            raise ProtocolError("refusing to send a POP3 command containing a line break")
        if self._transport is None or not self.is_open:
            raise ConnectionLost(f"the connection to POP3 server {self.label} is closed")
        self._transport.write(b"".join(line + b"\r\n" for line in lines))

    # Reading

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
            await self.fill()
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
            await self.fill()
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

    def _unread(self) -> int:
        return len(self._buffer) - int(self._pending_lf)

    def _forget_buffer(self) -> None:
        self._buffer.clear()
        self._pending_lf = False


async def open_wire(
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
    max_line_length: int,
) -> Pop3Wire:
    """Connect (with implicit TLS when ``ssl_context`` is given) and return the wire."""
    return await connect(
        lambda label: Pop3Wire(label, timeout, max_line_length),
        host,
        port,
        ssl_context=ssl_context,
        timeout=timeout,
    )
