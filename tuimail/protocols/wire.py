"""What the POP3 and IMAP wires share: a read buffer of our own, bounded waits, TLS upgrades.

We own the read buffer (an ``asyncio.Protocol``) rather than use ``asyncio.StreamReader``:
on Python 3.11 a StreamReader keeps its buffered plaintext across ``StreamWriter.start_tls``,
so bytes a server injects before the TLS handshake would be read as if they came over TLS.
Owning the buffer lets STARTTLS drop them, and lets us see unsolicited bytes before a command.
``pop3_wire`` and ``imap_wire`` add their framing (status lines and dot-terminated bodies;
responses with literals).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable
from typing import ClassVar, Final, TypeVar, cast

from tuimail.errors import ConnectionLost, TLSError


class Wire(asyncio.Protocol):
    """The bytes of one connection; every wait is bounded in time, the buffer in size.

    An error raised here leaves the connection aborted: after a timeout we no longer know
    where the next reply starts.
    """

    PROTOCOL: ClassVar[str]  # "POP3", "IMAP": named in every error
    TLS_REPLY: ClassVar[str]  # the reply after which the handshake starts, for the log
    HIGH_WATER: ClassVar[int]  # reading pauses when this much waits and nobody asked for more
    log: ClassVar[logging.Logger]

    def __init__(self, label: str, timeout: float) -> None:
        self.label = label
        self.timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None  # set while the transport is full
        self._paused = False
        self._eof = False
        self._lost: asyncio.Future[None] = self._loop.create_future()

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            keep_alive(sock)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > self.HIGH_WATER and not self._paused and self._transport:
            self._transport.pause_reading()
            self._paused = True
        # Woken even when a reply is still incomplete: the read timeout is for silence, not
        # for the whole transfer, so every arrival must restart it.
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

    @property
    def is_open(self) -> bool:
        """True while commands can still be sent."""
        return self._transport is not None and not self._transport.is_closing() and not self._eof

    # Waiting

    async def fill(self, timeout: float | None = None) -> None:
        """Wait for more bytes, at most ``timeout`` (default: the wire's) seconds."""
        limit = self.timeout if timeout is None else timeout
        try:
            arrived = await self._wait_for_data(limit)
        except asyncio.CancelledError:
            # Cancelled halfway through a reply: the rest of it would be read as the next one.
            self.abort()
            raise
        if not arrived:
            self.abort()
            raise ConnectionLost(
                f"{self.PROTOCOL} server {self.label} did not answer within {limit:g} s"
            )

    async def _wait_for_data(self, timeout: float) -> bool:
        """Wait until bytes arrive (or ``_wake``); False when ``timeout`` ran out."""
        if self._eof:
            self.abort()
            raise ConnectionLost(
                f"{self.PROTOCOL} server {self.label} closed the connection unexpectedly"
            )
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

    # TLS and closing

    def _forget_buffer(self) -> None:
        """Drop what is buffered (subclasses also reset where their framing had got to)."""
        self._buffer.clear()

    def _unread(self) -> int:
        """Bytes buffered that no command has read."""
        return len(self._buffer)

    def has_unread_data(self) -> bool:
        """True when the server sent bytes that no command has read yet."""
        return self._unread() > 0

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        """Upgrade to TLS after STARTTLS/STLS, discarding anything the server sent before it."""
        unread = self._unread()
        if unread:
            # Nothing may follow the reply in plaintext: this is how STARTTLS injection
            # (CVE-2011-0411 and friends) smuggles a forged reply into the TLS session.
            self.log.warning(
                "%s server %s sent %d bytes after %s; discarded (possible injection)",
                self.PROTOCOL,
                self.label,
                unread,
                self.TLS_REPLY,
            )
        self._forget_buffer()
        if self._transport is None or self._eof:
            raise ConnectionLost(f"the connection to {self.PROTOCOL} server {self.label} is closed")
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
            raise TLSError(
                f"TLS handshake with {self.PROTOCOL} server {self.label} timed out"
            ) from None
        except (ssl.SSLError, OSError) as error:
            self.abort()
            raise tls_error(self.PROTOCOL, self.label, error) from error
        if transport is None:  # only for protocols that are not ours
            self.abort()
            raise TLSError(f"TLS upgrade with {self.PROTOCOL} server {self.label} failed")
        self._transport = transport

    def abort(self) -> None:
        """Drop the connection at once, unsent data and all."""
        self._eof = True
        self._forget_buffer()
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


# A second line behind the clients' own checks (IMAP's IDLE keepalive): the kernel probes an
# idle connection after 30 s, every 10 s, and gives it up after 3 unanswered probes, or when
# what we sent has gone unacknowledged for 60 s, so a connection that died silently (no FIN,
# no RST) ends within about a minute instead of the kernel's two hours (or 15 minutes of
# retransmissions).
_KEEPALIVE_OPTIONS: Final = (
    ("TCP_KEEPIDLE", 30),
    ("TCP_KEEPINTVL", 10),
    ("TCP_KEEPCNT", 3),
    ("TCP_USER_TIMEOUT", 60_000),  # milliseconds; Linux only
)


def keep_alive(sock: socket.socket) -> None:
    """Switch on TCP keepalive with short intervals, where the platform offers the options."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in _KEEPALIVE_OPTIONS:
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    except OSError:
        pass  # not TCP (a Unix socket in a test), or refused: the clients' own checks remain


def tls_error(protocol: str, label: str, error: Exception) -> TLSError:
    """A one-line TLSError for a failed handshake."""
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or str(error)
        return TLSError(f"{protocol} server {label} has an untrusted TLS certificate: {reason}")
    reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error)
    return TLSError(f"TLS handshake with {protocol} server {label} failed: {reason}")


W = TypeVar("W", bound=Wire)


async def connect(
    make: Callable[[str], W],
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
) -> W:
    """Connect (with implicit TLS when ``ssl_context`` is given) a wire ``make(label)`` makes."""
    label = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    loop = asyncio.get_running_loop()
    wire = make(label)
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
        raise ConnectionLost(
            f"{wire.PROTOCOL} server {label} did not answer within {timeout:g} s"
        ) from None
    except ssl.SSLError as error:
        raise tls_error(wire.PROTOCOL, label, error) from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConnectionLost(
            f"could not connect to {wire.PROTOCOL} server {label}: {reason}"
        ) from error
    return wire
