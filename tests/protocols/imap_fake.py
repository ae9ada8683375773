"""Scripted IMAP servers on 127.0.0.1 for the hostile cases a real server will not play,
a proxy that can cut a real connection in the middle of a response, and a log check.

``FakeImapServer`` answers a handful of commands like a small RFC 3501 server; override one
``handle_<verb>`` to make it misbehave.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from types import TracebackType

import pytest

from tests.harness.dovecot import Dovecot
from tests.harness.relay import Relay


class FakeSession:
    """One client connection as the fake server sees it."""

    def __init__(
        self, server: FakeImapServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.tls = False

    async def read_line(self) -> bytes | None:
        line = await self.reader.readline()
        if not line:
            return None
        line = line.rstrip(b"\r\n")
        self.server.received.append(line)
        return line

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


class FakeImapServer:
    """A tiny IMAP server: CAPABILITY, STARTTLS, LOGIN, AUTHENTICATE, SELECT, NOOP, LOGOUT."""

    greeting = b"* OK fake IMAP server ready\r\n"
    capabilities_before_tls = b"IMAP4rev1 STARTTLS LOGINDISABLED"
    capabilities = b"IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER SASL-IR IDLE"

    def __init__(self, starttls: ssl.SSLContext | None = None) -> None:
        self.starttls = starttls
        self.received: list[bytes] = []
        self.authenticated: list[bytes] = []  # decoded AUTHENTICATE payloads
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> FakeImapServer:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def received_verbs(self) -> list[bytes]:
        """The verb of every line received (continuation lines included as they are)."""
        return [[*line.split(b" "), b""][1].upper() for line in self.received]

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        session = FakeSession(self, reader, writer)
        try:
            await session.send(self.greeting)
            while (line := await session.read_line()) is not None:
                tag, _, rest = line.partition(b" ")
                verb, _, args = rest.partition(b" ")
                handler = getattr(self, f"handle_{verb.decode('ascii', 'replace').lower()}", None)
                if handler is None:
                    await session.send(tag + b" BAD unknown command\r\n")
                elif await handler(session, tag, args) == "logout":
                    break
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the client hung up or failed the handshake: some tests do exactly that
        finally:
            writer.transport.abort()

    async def handle_capability(self, session: FakeSession, tag: bytes, args: bytes) -> None:
        plain = self.starttls is not None and not session.tls
        caps = self.capabilities_before_tls if plain else self.capabilities
        await session.send(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")

    async def handle_starttls(self, session: FakeSession, tag: bytes, args: bytes) -> None:
        assert self.starttls is not None
        await session.send(tag + b" OK Begin TLS negotiation now\r\n")
        await start_tls(session, self.starttls)

    async def handle_login(self, session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(tag + b" OK logged in\r\n")

    async def handle_authenticate(self, session: FakeSession, tag: bytes, args: bytes) -> None:
        parts = args.split(b" ")
        if len(parts) > 1:
            blob = parts[1]
        else:
            await session.send(b"+ \r\n")
            blob = (await session.read_line()) or b""
        self.authenticated.append(base64.b64decode(blob))
        await session.send(tag + b" OK [CAPABILITY " + self.capabilities + b"] logged in\r\n")

    async def handle_select(self, session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(
            b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n"
            + tag
            + b" OK [READ-WRITE] selected\r\n"
        )

    async def handle_noop(self, session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(tag + b" OK nothing\r\n")

    async def handle_logout(self, session: FakeSession, tag: bytes, args: bytes) -> str:
        await session.send(b"* BYE see you\r\n" + tag + b" OK bye\r\n")
        return "logout"


class CuttingProxy(Relay):
    """A TCP proxy to Dovecot's plain IMAP port that can hang up partway through a reply."""

    def __init__(self, dovecot: Dovecot) -> None:
        super().__init__(dovecot.imap_port)
        self.cut = asyncio.Event()  # set once the proxy has dropped the connections
        self._cut_after: int | None = None
        self._forwarded = 0

    def cut_after(self, server_bytes: int) -> None:
        """Drop both sides once this many more bytes have come from the server."""
        self._forwarded = 0
        self._cut_after = server_bytes

    def _drop(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self.cut.set()

    async def upward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def downward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            if self._cut_after is not None:
                room = self._cut_after - self._forwarded
                if len(data) >= room:
                    writer.write(data[: max(room, 0)])
                    self._drop()
                    return
                self._forwarded += len(data)
            writer.write(data)
            await writer.drain()
        writer.close()


async def start_tls(session: FakeSession, context: ssl.SSLContext) -> None:
    """Upgrade the fake's side of the connection to TLS."""
    plain = session.writer.transport
    try:
        await session.writer.start_tls(context)
    except AttributeError as error:
        # Python 3.11 gets no transport back when the client hangs up right after the
        # handshake (it rejected our certificate) and trips over it; put the closed one back
        # so the writer can be collected quietly, and end the session.
        session.writer._transport = plain  # type: ignore[attr-defined]
        raise ConnectionResetError("the client left during the TLS handshake") from error
    session.tls = True


def assert_no_secret_logged(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    """No record, formatted or raw, holds a secret or its base64 in any SASL framing."""
    assert caplog.records, "nothing was logged: the check would prove nothing"
    forms: set[str] = set()
    for secret in secrets:
        forms.add(secret)
        forms.add(secret.replace("\\", "\\\\").replace('"', '\\"'))
        for blob in (f"\0alice\0{secret}", f"user=alice\x01auth=Bearer {secret}\x01\x01"):
            forms.add(base64.b64encode(blob.encode()).decode())
        forms.add(base64.b64encode(secret.encode()).decode()[:16])
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + str(record.exc_info)
        for form in forms:
            assert form not in text, f"secret found in log record {record.name}"
