"""The demo POP3 server: RFC 1939 over asyncio streams, one maildrop in memory, loopback only.

It speaks what a POP3 client needs and no more: USER/PASS, CAPA, STAT, LIST, UIDL, RETR, TOP,
DELE, RSET, NOOP, QUIT. Deletions take effect at QUIT (the UPDATE state), as the RFC says, so
the demo shows what a dropped connection means for a POP3 client. It is demo-only code: no
TLS, no APOP, no SASL, and no protection beyond the loopback address.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from tuimail.demo.listener import LoopbackListener

log = logging.getLogger(__name__)

CAPABILITIES = ("USER", "UIDL", "TOP", "PIPELINING", "RESP-CODES")
_MAX_LINE = 1024
_MAX_BAD_COMMANDS = 10


@dataclass
class Maildrop:
    """The messages of the one POP3 user, oldest first, each with a stable unique id."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    locked: bool = False  # RFC 1939: one session at a time holds the maildrop
    delivered: int = 0  # messages ever added: the UIDL's serial, never reused

    def add(self, raw: bytes) -> None:
        """Append a message (new mail) under a UIDL that no other message ever gets."""
        self.delivered += 1
        uidl = f"{self.delivered}.{hashlib.sha256(raw).hexdigest()[:16]}"
        self.messages.append((uidl, raw))


def _stuffed(raw: bytes) -> bytes:
    """The message as a multi-line reply: CRLF lines, dot-stuffed, ending in '.'."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    body = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)
    return body + b".\r\n"


def _top(raw: bytes, count: int) -> bytes:
    """The header, the blank line, and the first ``count`` lines of the body."""
    normal = raw.replace(b"\r\n", b"\n")
    head, sep, body = normal.partition(b"\n\n")
    kept = b"\n".join(body.split(b"\n")[:count]) if count > 0 else b""
    return head + sep + kept


class _Session:
    """One client connection: AUTHORIZATION, then TRANSACTION, then UPDATE at QUIT."""

    def __init__(
        self, server: DemoPop3Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.user: str | None = None
        self.snapshot: list[tuple[str, bytes]] | None = None  # set once logged in
        self.deleted: set[int] = set()
        self.rest = ""

    def send(self, line: str, body: bytes | None = None) -> None:
        self.writer.write(line.encode() + b"\r\n" + (body or b""))

    async def run(self) -> None:
        self.send("+OK tuimail demo POP3 server ready")
        bad = 0
        try:
            while bad < _MAX_BAD_COMMANDS:
                await self.writer.drain()
                try:
                    line = await self.reader.readline()
                except ValueError:  # over the stream's limit: no client sends such a line
                    return
                if not line.endswith(b"\n") or len(line) > _MAX_LINE:
                    return  # EOF, or a line no client sends
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                self.rest = text.partition(" ")[2]  # PASS takes the rest of the line, spaces too
                words = text.split()
                verb, args = (words[0].upper(), words[1:]) if words else ("", [])
                if verb == "QUIT":
                    self.quit()
                    await self.writer.drain()
                    return
                if not self.command(verb, args):
                    bad += 1
        finally:
            if self.snapshot is not None:
                self.server.maildrop.locked = False

    def command(self, verb: str, args: list[str]) -> bool:
        """Answer one command; False when it was not understood."""
        if verb == "CAPA":
            listed = "".join(f"{name}\r\n" for name in CAPABILITIES).encode()
            self.send("+OK capability list follows", listed + b".\r\n")
        elif verb == "NOOP" and self.snapshot is not None:
            self.send("+OK")
        elif self.snapshot is None:
            return self.authorization(verb, args)
        else:
            return self.transaction(verb, args)
        return True

    def authorization(self, verb: str, args: list[str]) -> bool:
        if verb == "USER" and len(args) == 1:
            self.user = args[0]
            self.send("+OK send PASS")
        elif verb == "PASS" and self.user is not None:
            password = self.rest
            if not self.server.check(self.user, password):
                self.user = None
                self.send("-ERR [AUTH] invalid user name or password")
            elif self.server.maildrop.locked:
                self.send("-ERR [IN-USE] the maildrop is open in another session")
            else:
                self.server.maildrop.locked = True
                self.snapshot = list(self.server.maildrop.messages)
                self.send(f"+OK {len(self.snapshot)} messages")
        else:
            self.send("-ERR log in with USER and PASS first")
            return False
        return True

    def message(self, arg: str) -> tuple[int, bytes] | None:
        """The message numbered ``arg`` (1-based), unless it does not exist or was deleted."""
        assert self.snapshot is not None
        number = int(arg) if arg.isascii() and arg.isdigit() else 0
        if not 1 <= number <= len(self.snapshot) or number in self.deleted:
            self.send(f"-ERR no message {arg}")
            return None
        return number, self.snapshot[number - 1][1]

    def listing(self, arg: list[str], value: str) -> None:
        """LIST or UIDL: one message with an argument, every live message without."""
        assert self.snapshot is not None
        if arg:
            found = self.message(arg[0])
            if found is not None:
                number, raw = found
                shown = len(raw) if value == "size" else self.snapshot[number - 1][0]
                self.send(f"+OK {number} {shown}")
            return
        lines = b"".join(
            f"{n} {len(raw) if value == 'size' else uidl}\r\n".encode()
            for n, (uidl, raw) in enumerate(self.snapshot, 1)
            if n not in self.deleted
        )
        self.send("+OK listing follows", lines + b".\r\n")

    def transaction(self, verb: str, args: list[str]) -> bool:
        assert self.snapshot is not None
        live = [raw for n, (_, raw) in enumerate(self.snapshot, 1) if n not in self.deleted]
        if verb == "STAT":
            self.send(f"+OK {len(live)} {sum(len(raw) for raw in live)}")
        elif verb == "LIST":
            self.listing(args, "size")
        elif verb == "UIDL":
            self.listing(args, "uidl")
        elif verb == "RETR" and len(args) == 1:
            if (found := self.message(args[0])) is not None:
                self.send(f"+OK {len(found[1])} octets", _stuffed(found[1]))
        elif verb == "TOP" and len(args) == 2 and args[1].isascii() and args[1].isdigit():
            if (found := self.message(args[0])) is not None:
                self.send("+OK top of message follows", _stuffed(_top(found[1], int(args[1]))))
        elif verb == "DELE" and len(args) == 1:
            if (found := self.message(args[0])) is not None:
                self.deleted.add(found[0])
                self.send(f"+OK message {found[0]} deleted")
        elif verb == "RSET":
            self.deleted.clear()
            self.send(f"+OK {len(self.snapshot)} messages")
        else:
            self.send(f"-ERR unknown command {verb[:20]}")
            return False
        return True

    def quit(self) -> None:
        """End the session; in TRANSACTION state, remove the messages marked deleted."""
        if self.snapshot is not None and self.deleted:
            gone = {self.snapshot[n - 1][0] for n in self.deleted}
            drop = self.server.maildrop
            drop.messages = [(uidl, raw) for uidl, raw in drop.messages if uidl not in gone]
            log.debug("demo POP3: %d messages deleted", len(gone))
        self.send("+OK bye")


class DemoPop3Server:
    """A POP3 server for one user and one in-memory maildrop."""

    def __init__(self, username: str, password: str, messages: list[bytes]) -> None:
        self.username = username
        self._password = password
        self.maildrop = Maildrop()
        for raw in messages:
            self.maildrop.add(raw)
        self._listener = LoopbackListener("demo POP3", self._connection)

    @property
    def port(self) -> int:
        """The port it listens on (0 before start)."""
        return self._listener.port

    def check(self, username: str, password: str) -> bool:
        """Whether the login is the demo user's."""
        return username == self.username and hmac.compare_digest(
            password.encode(), self._password.encode()
        )

    async def deliver(self, raw: bytes) -> None:
        """New mail: seen by the next session (a session sees the maildrop as it was at PASS)."""
        self.maildrop.add(raw)

    async def start(self, host: str) -> int:
        """Listen on a free port of ``host``; returns it."""
        return await self._listener.start(host)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _Session(self, reader, writer).run()

    async def stop(self) -> None:
        """Stop listening and end every connection (deletions not yet QUIT are forgotten)."""
        await self._listener.stop()
