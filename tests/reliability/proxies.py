"""Loopback proxies in front of the real test servers that misbehave on cue.

``FetchMeddler`` relays an IMAP session to Dovecot response by response and, partway through
the reply to the Nth header FETCH, hands the client's side of the connection to a scripted
misdeed. ``StartTlsMitm`` relays bytes unchanged, except that it appends forged plaintext to the
server's STARTTLS go-ahead (as a man in the middle would) and records every byte the client sent.
Both let a hostile case run against a real server and a real store, so that the next sync can
go to the same server directly and show that the store was left consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tests.harness.relay import Relay

# The header FETCH of tuimail.protocols.imap_headers (the one a folder sync sends per batch).
_HEADER_FETCH = re.compile(rb"(\S+) UID FETCH [0-9:,*]+ \(UID FLAGS INTERNALDATE RFC822\.SIZE ")
_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r\n\Z")


@dataclass
class Meddling:
    """What a misdeed gets: the client's side, the FETCH it interrupts, the last real reply."""

    client: asyncio.StreamWriter
    tag: bytes
    last_response: bytes


# Returns True to go on relaying the rest of the server's reply, False to stop relaying.
Misdeed = Callable[[Meddling], Awaitable[bool]]


async def read_imap_response(reader: asyncio.StreamReader) -> bytes:
    """One whole IMAP response: a line, and the literals (and line parts) it announces."""
    data = bytearray(await reader.readuntil(b"\r\n"))
    while (match := _LITERAL_AT_END.search(data, max(0, len(data) - 24))) is not None:
        data += await reader.readexactly(int(match[1]))
        data += await reader.readuntil(b"\r\n")
    return bytes(data)


async def stream_until_refused(writer: asyncio.StreamWriter, head: bytes, chunk: bytes) -> int:
    """Send ``head`` then ``chunk`` again and again until the client hangs up (or 1 GiB);
    returns how many bytes went out."""
    sent = 0
    with contextlib.suppress(ConnectionError):
        writer.write(head)
        while sent < 1024 * 1024 * 1024:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    return sent


class FetchMeddler(Relay):
    """An IMAP relay to Dovecot whose misdeed takes over after ``after`` FETCH responses of the
    ``on_fetch``-th header FETCH (counting from 1)."""

    def __init__(
        self, upstream_port: int, misdeed: Misdeed, *, on_fetch: int = 3, after: int = 3
    ) -> None:
        super().__init__(upstream_port)
        self.misdeed = misdeed
        self.on_fetch = on_fetch
        self.after = after
        self.fetches = 0
        self.struck = asyncio.Event()  # set once the misdeed has run
        self._armed: bytes | None = None

    async def upward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            if (match := _HEADER_FETCH.match(line)) is not None:
                self.fetches += 1
                if self.fetches == self.on_fetch:
                    self._armed = match[1]  # before the server can answer it
            writer.write(line)
            await writer.drain()
        writer.close()

    async def downward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = 0
        last = b""
        while True:
            response = await read_imap_response(reader)
            if self._armed is not None and b" FETCH " in response[:24]:
                seen += 1
                if seen > self.after:
                    tag, self._armed = self._armed, None
                    self.struck.set()
                    relay_on = await self.misdeed(Meddling(writer, tag, last))
                    if not relay_on:
                        await reader.read()  # swallow the server's side until the end
                        return
            writer.write(response)
            await writer.drain()
            last = response


class StartTlsMitm(Relay):
    """A byte relay that attacks STARTTLS (STLS in POP3) as a man in the middle would.

    ``inject`` appends forged plaintext to the server's go-ahead, in the same segment;
    ``strip`` deletes ``offer`` (the STARTTLS capability) from what the server says first;
    ``break`` answers the client's TLS handshake with plaintext instead of the server's.
    ``heard`` keeps every byte the client sent, ``plaintext`` those before the handshake.
    """

    def __init__(
        self,
        upstream_port: int,
        command: bytes,
        attack: str,
        *,
        injection: bytes = b"",
        offer: bytes = b"",
    ) -> None:
        super().__init__(upstream_port)
        self._command = re.compile(rb"(?:^|\n)(?:\S+ )?" + command + rb"\r\n", re.IGNORECASE)
        self.attack = attack
        self.injection = injection
        self.offer = offer
        self.heard = bytearray()
        self.plaintext = bytearray()
        self.struck = asyncio.Event()  # set once the attack was carried out
        self._asked = False
        self._hello = asyncio.Event()  # the client's first bytes after the STARTTLS command

    async def upward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            self.heard += data
            if self._asked:
                self._hello.set()
            else:
                self.plaintext += data
                self._asked = self._command.search(self.plaintext) is not None
            writer.write(data)
            await writer.drain()
        writer.close()

    async def downward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if self.attack == "strip" and self.offer in data:
                data = data.replace(self.offer, b"")
                self.struck.set()
            elif self._asked and not self.struck.is_set() and b"\r\n" in data:
                end = data.index(b"\r\n") + 2  # the end of the go-ahead
                self.struck.set()
                if self.attack == "inject":
                    data = data[:end] + self.injection + data[end:]
                elif self.attack == "break":
                    writer.write(data[:end])
                    await writer.drain()
                    await self._hello.wait()  # plaintext sent earlier would just be dropped
                    writer.write(b"250 this is not TLS\r\n" * 16)
                    await writer.drain()
                    await reader.read()  # the server's handshake never reaches the client
                    return
            writer.write(data)
            await writer.drain()
        writer.close()
