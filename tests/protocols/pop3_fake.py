"""A scripted POP3 server on 127.0.0.1 for tests: well-behaved by default, hostile on cue.

Subclass ``FakePop3Server`` and override one ``handle_<verb>`` to make a single command
misbehave; everything else keeps answering like an ordinary RFC 1939 server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
from collections.abc import Sequence
from types import TracebackType

GREETING_TIMESTAMP = b"<1896.697170952@dbc.mtview.ca.us>"


def dot_stuff(message: bytes, line_ending: bytes = b"\r\n") -> bytes:
    """Frame a message as a multi-line reply body, like a server does (RFC 1939 3)."""
    lines = message.split(line_ending)
    if lines and lines[-1] == b"":
        lines.pop()
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
    return b"".join(line + line_ending for line in stuffed) + b"." + line_ending


class Session:
    """One client connection as the server sees it."""

    def __init__(
        self, server: FakePop3Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.user: bytes | None = None
        self.deleted: set[int] = set()

    async def read_command(self) -> bytes | None:
        """The next command line without CRLF, or None when the client has gone."""
        # Commands already waiting behind this one mean the client pipelined.
        line = await self.reader.readline()
        if not line:
            return None
        if self.reader._buffer:  # type: ignore[attr-defined]
            self.server.pipelined_reads += 1
        command = line.rstrip(b"\r\n")
        self.server.received.append(command)
        return command

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_line(self, line: bytes) -> None:
        await self.send(line + self.server.line_ending)

    async def send_multiline(self, status: bytes, body: bytes) -> None:
        await self.send(status + self.server.line_ending + body)

    async def wait_for_client_to_leave(self) -> None:
        """Stall until the client closes the connection (what a hung server looks like)."""
        while await self.reader.read(65536):
            pass


class FakePop3Server:
    """An RFC 1939 server holding ``messages`` for user alice/secret."""

    greeting = b"+OK fake POP3 server ready " + GREETING_TIMESTAMP
    capabilities: Sequence[bytes] | None = (b"USER", b"SASL PLAIN", b"UIDL", b"TOP", b"PIPELINING")

    def __init__(
        self,
        messages: Sequence[bytes] = (),
        *,
        tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
        line_ending: bytes = b"\r\n",
    ) -> None:
        self.messages = list(messages)
        self.username = b"alice"
        self.password = b"secret"
        self.tls = tls
        self.starttls = starttls
        self.line_ending = line_ending
        self.received: list[bytes] = []
        self.committed_deletions: set[int] = set()
        self.pipelined_reads = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> FakePop3Server:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0, ssl=self.tls)
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
        # Hanging up makes every session's pending read or drain fail, so its task ends.
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.gather(*self._sessions, return_exceptions=True)
        await self._server.wait_closed()

    async def sessions_finished(self) -> None:
        """Wait until every client connection so far has ended."""
        await asyncio.gather(*self._sessions, return_exceptions=True)

    def received_verbs(self) -> list[bytes]:
        return [line.split(b" ", 1)[0].upper() for line in self.received]

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        self._writers.append(writer)
        session = Session(self, reader, writer)
        try:
            await session.send_line(self.greeting)
            while (command := await session.read_command()) is not None:
                verb, _, args = command.partition(b" ")
                handler = getattr(self, f"handle_{verb.decode('ascii', 'replace').lower()}", None)
                if handler is None:
                    await session.send_line(b"-ERR unknown command")
                elif await handler(session, args.split()) == "quit":
                    break
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the client hung up or failed the handshake: that is what some tests do
        finally:
            writer.transport.abort()

    # Commands. Returning "quit" ends the session.

    async def handle_capa(self, session: Session, args: list[bytes]) -> str | None:
        if self.capabilities is None:
            await session.send_line(b"-ERR unknown command")
            return None
        caps = list(self.capabilities) + ([b"STLS"] if self.starttls else [])
        body = b"".join(cap + self.line_ending for cap in caps) + b"." + self.line_ending
        await session.send_multiline(b"+OK Capability list follows", body)
        return None

    async def handle_stls(self, session: Session, args: list[bytes]) -> str | None:
        if self.starttls is None:
            await session.send_line(b"-ERR STLS not available")
            return None
        await session.send_line(b"+OK Begin TLS negotiation")
        await session.writer.start_tls(self.starttls)
        return None

    async def handle_user(self, session: Session, args: list[bytes]) -> str | None:
        session.user = args[0] if args else b""
        await session.send_line(b"+OK send PASS")
        return None

    async def handle_pass(self, session: Session, args: list[bytes]) -> str | None:
        password = session.server.received[-1][len(b"PASS ") :]
        await self._login_reply(
            session, session.user == self.username and password == self.password
        )
        return None

    async def handle_apop(self, session: Session, args: list[bytes]) -> str | None:
        expected = hashlib.md5(GREETING_TIMESTAMP + self.password).hexdigest().encode()
        await self._login_reply(session, args == [self.username, expected])
        return None

    async def handle_auth(self, session: Session, args: list[bytes]) -> str | None:
        if len(args) == 1:  # no initial response: ask for it
            await session.send_line(b"+ ")
            blob = await session.read_command()
        else:
            blob = args[1]
        expected = b"\0" + self.username + b"\0" + self.password
        await self._login_reply(session, blob is not None and base64.b64decode(blob) == expected)
        return None

    async def _login_reply(self, session: Session, ok: bool) -> None:
        if ok:
            await session.send_line(b"+OK maildrop locked and ready")
        else:
            await session.send_line(b"-ERR [AUTH] Authentication failed.")

    def _live(self, session: Session) -> list[int]:
        return [n for n in range(1, len(self.messages) + 1) if n not in session.deleted]

    def _message(self, args: list[bytes]) -> int | None:
        msgno = int(args[0]) if args and args[0].isdigit() else 0
        return msgno if 1 <= msgno <= len(self.messages) else None

    async def handle_stat(self, session: Session, args: list[bytes]) -> str | None:
        live = self._live(session)
        total = sum(len(self.messages[n - 1]) for n in live)
        await session.send_line(b"+OK %d %d" % (len(live), total))
        return None

    def announced_size(self, msgno: int) -> int:
        return len(self.messages[msgno - 1])

    async def handle_list(self, session: Session, args: list[bytes]) -> str | None:
        lines = b"".join(
            b"%d %d" % (n, self.announced_size(n)) + self.line_ending for n in self._live(session)
        )
        await session.send_multiline(b"+OK scan listing follows", lines + b"." + self.line_ending)
        return None

    async def handle_uidl(self, session: Session, args: list[bytes]) -> str | None:
        lines = b"".join(b"%d uid-%d" % (n, n) + self.line_ending for n in self._live(session))
        await session.send_multiline(b"+OK", lines + b"." + self.line_ending)
        return None

    async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
        msgno = self._message(args)
        if msgno is None or msgno in session.deleted:
            await session.send_line(b"-ERR no such message")
            return None
        message = self.messages[msgno - 1]
        status = b"+OK %d octets" % len(message)
        await session.send_multiline(status, dot_stuff(message, self.line_ending))
        return None

    async def handle_top(self, session: Session, args: list[bytes]) -> str | None:
        msgno = self._message(args)
        if msgno is None or len(args) != 2:
            await session.send_line(b"-ERR no such message")
            return None
        head, _, body = self.messages[msgno - 1].partition(b"\r\n\r\n")
        kept = b"".join(line + b"\r\n" for line in body.split(b"\r\n")[: int(args[1])])
        await session.send_multiline(b"+OK", dot_stuff(head + b"\r\n\r\n" + kept))
        return None

    async def handle_dele(self, session: Session, args: list[bytes]) -> str | None:
        msgno = self._message(args)
        if msgno is None or msgno in session.deleted:
            await session.send_line(b"-ERR no such message")
            return None
        session.deleted.add(msgno)
        await session.send_line(b"+OK message deleted")
        return None

    async def handle_rset(self, session: Session, args: list[bytes]) -> str | None:
        session.deleted.clear()
        await session.send_line(b"+OK")
        return None

    async def handle_noop(self, session: Session, args: list[bytes]) -> str | None:
        await session.send_line(b"+OK")
        return None

    async def handle_quit(self, session: Session, args: list[bytes]) -> str | None:
        self.committed_deletions |= session.deleted
        await session.send_line(b"+OK bye")
        return "quit"
