"""Our async POP3 client: RFC 1939 commands, CAPA, STLS, SASL PLAIN and pipelined RETR/DELE.

For a POP3 account the local store holds the only copy of the mail, so RETR returns the
message byte for byte as the server sent it (minus dot-stuffing), and nothing a server sends
can make us read past a limit, wait forever, or send a password before TLS when TLS was asked.
The framing lives in ``pop3_wire``; this module is the commands and the session rules.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import re
import ssl
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Literal, TypeVar

from tuimail.errors import AuthError, ConnectionLost, ProtocolError, TLSError
from tuimail.protocols.pop3_wire import Pop3Wire, open_wire
from tuimail.protocols.server_text import clean_server_text, format_size

log = logging.getLogger("tuimail.protocols.pop3")

Security = Literal["tls", "starttls", "none"]
Mechanism = Literal["auto", "user", "apop", "plain"]
_Reply = TypeVar("_Reply")

DEFAULT_PORTS: Final[dict[str, int]] = {"tls": 995, "starttls": 110, "none": 110}

_CAPA_LIMIT = 1024 * 1024  # a capability list is a few hundred bytes; refuse absurd ones
_APOP_TIMESTAMP: Final = re.compile(rb"<[\x21-\x3b\x3d\x3f-\x7e]+>")  # RFC 1939 7: a msg-id
_LIST_LINE: Final = re.compile(rb"(\d{1,10})[ \t]+(\d{1,15})(?:[ \t].*)?")
_UIDL_LINE: Final = re.compile(rb"(\d{1,10})[ \t]+([\x21-\x7e]{1,512})[ \t]*")
# A whole LIST or UIDL body of the usual shape (one space, CRLF), checked in one scan: its
# fields are then the words of the body, without a regex match per line.
_PLAIN_LIST: Final = re.compile(rb"(?:\d{1,10} \d{1,15}\r\n)*+")
_PLAIN_UIDL: Final = re.compile(rb"(?:\d{1,10} [\x21-\x7e]{1,512}\r\n)*+")
_STAT_REPLY: Final = re.compile(rb"(\d{1,10})[ \t]+(\d{1,15})(?:[ \t].*)?")
_LEADING_NUMBER: Final = re.compile(rb"(\d{1,15})\b")


class MalformedLine(ValueError):
    """A line of a LIST or UIDL reply that does not have its command's shape."""

    def __init__(self, line: bytes) -> None:
        super().__init__("malformed listing line")
        self.line = line


def listing_fields(
    body: bytes, plain: re.Pattern[bytes], line_shape: re.Pattern[bytes]
) -> tuple[list[bytes], list[bytes]]:
    """The two fields of every line of a LIST or UIDL body, in order; MalformedLine if a line
    does not fullmatch ``line_shape``. A body all in the ``plain`` shape (a subset of it) is
    split in one go: 10,000 lines cost one scan instead of 10,000 matches."""
    if plain.fullmatch(body):
        words = body.split()
        return words[::2], words[1::2]
    firsts: list[bytes] = []
    seconds: list[bytes] = []
    for line in body.splitlines():
        if (match := line_shape.fullmatch(line)) is None:
            raise MalformedLine(line)
        firsts.append(match[1])
        seconds.append(match[2])
    return firsts, seconds


# RFC 2449/3206 codes for a mailbox that is busy or a server that is failing: not a bad password.
_NOT_A_CREDENTIAL_PROBLEM = ("[IN-USE]", "[SYS/")


@dataclass(frozen=True)
class Pop3Settings:
    """Where a POP3 server is and how far to trust it."""

    host: str
    port: int
    security: Security
    ssl_context: ssl.SSLContext | None = None
    timeout: float = 60.0
    max_message_size: int = 100 * 1024 * 1024
    max_line_length: int = 64 * 1024


class Pop3Client:
    """One POP3 session. Open it with :meth:`connect`.

    ``async with`` closes the connection WITHOUT QUIT when the block ends, so deletions
    are only committed when the caller awaits :meth:`quit` explicitly.
    """

    def __init__(self, settings: Pop3Settings, wire: Pop3Wire) -> None:
        self.settings = settings
        self.greeting = ""
        self.capabilities: dict[str, tuple[str, ...]] = {}
        self._wire = wire
        self._label = wire.label
        self._apop_timestamp: bytes | None = None
        self._sizes: dict[int, int] | None = None
        self._busy: str | None = None

    @classmethod
    async def connect(cls, settings: Pop3Settings) -> Pop3Client:
        """Connect, read the greeting and CAPA, and upgrade with STLS when security is starttls."""
        context = settings.ssl_context
        if context is None and settings.security != "none":
            context = ssl.create_default_context()
        wire = await open_wire(
            settings.host,
            settings.port,
            ssl_context=context if settings.security == "tls" else None,
            timeout=settings.timeout,
            max_line_length=settings.max_line_length,
        )
        client = cls(settings, wire)
        try:
            await client._open_session(context)
        except BaseException:
            wire.abort()
            raise
        return client

    async def _open_session(self, context: ssl.SSLContext | None) -> None:
        line = await self._wire.read_status_line()
        text = self._expect_ok(line, "the connection")
        self.greeting = clean_server_text(text)
        if match := _APOP_TIMESTAMP.search(text):
            self._apop_timestamp = match.group()
        with self._exclusive("CAPA"):
            await self._load_capabilities()
        if self.settings.security != "starttls":
            return
        if context is None or "STLS" not in self.capabilities:
            raise TLSError(
                f"POP3 server {self._label} does not offer STARTTLS (STLS); "
                "not sending the password unencrypted"
            )
        with self._exclusive("STLS"):
            self._send("STLS")
            reply = await self._wire.read_status_line()
            ok, text = self._status(reply, "STLS")
            if not ok:
                raise TLSError(
                    f"POP3 server {self._label} refused STARTTLS: {_reason(text)}; "
                    "not sending the password unencrypted"
                )
            await self._wire.start_tls(context, self.settings.host)
            # What the server said before TLS may have been forged by a man in the middle.
            self.capabilities = {}
            await self._load_capabilities()

    async def __aenter__(self) -> Pop3Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # Session plumbing

    @contextlib.contextmanager
    def _exclusive(self, command: str) -> Iterator[None]:
        """Run one command (or one pipeline) at a time, after checking for unsolicited bytes."""
        if self._busy is not None:
            # A second command now would read the replies that belong to the first.
            raise RuntimeError(f"Pop3Client is busy with {self._busy}; cannot start {command}")
        if not self._wire.is_open:
            raise ConnectionLost(f"the connection to POP3 server {self._label} is closed")
        if self._wire.has_unread_data():
            self._wire.abort()
            raise ProtocolError(
                f"POP3 server {self._label} sent data nobody asked for before {command}; "
                "connection closed"
            )
        self._busy = command
        try:
            yield
        finally:
            self._busy = None

    def _send(self, *commands: str, shown: str | None = None) -> None:
        for command in commands:
            log.debug("C: %s", shown or command)
        self._wire.send(*(command.encode("utf-8") for command in commands))

    def _status(self, line: bytes, command: str) -> tuple[bool, bytes]:
        """Split a reply into (ok, text); anything but +OK/-ERR breaks the session."""
        if line.startswith(b"+OK"):
            return True, line[3:].strip()
        if line.startswith(b"-ERR"):
            return False, line[4:].strip()
        self._wire.abort()
        raise ProtocolError(
            f"POP3 server {self._label} sent an invalid reply to {command}: "
            f"{clean_server_text(line, 80)!r}; connection closed"
        )

    def _expect_ok(self, line: bytes, command: str) -> bytes:
        ok, text = self._status(line, command)
        if not ok:
            raise ProtocolError(f"POP3 server {self._label} refused {command}: {_reason(text)}")
        return text

    async def _command(self, command: str) -> bytes:
        """Send a single-line command and return the text after +OK."""
        self._send(command)
        return self._expect_ok(await self._wire.read_status_line(), command)

    async def _listing(self, command: str, limit: int) -> bytes | None:
        """Send a multi-line command; return its body, or None when the server says -ERR."""
        self._send(command)
        ok, _text = self._status(await self._wire.read_status_line(), command)
        if not ok:
            return None
        return await self._wire.read_body(limit, f"the {command} reply")

    async def _load_capabilities(self) -> None:
        body = await self._listing("CAPA", _CAPA_LIMIT)
        if body is None:  # RFC 1939 servers without RFC 2449
            self.capabilities = {}
            return
        capabilities: dict[str, tuple[str, ...]] = {}
        for line in body.splitlines():
            words = clean_server_text(line).split()
            if words:
                name = words[0].upper()
                args = tuple(w.upper() for w in words[1:]) if name == "SASL" else tuple(words[1:])
                capabilities[name] = args
        self.capabilities = capabilities

    # Authorization

    async def login(self, username: str, password: str, mechanism: Mechanism = "auto") -> None:
        """Log in: SASL PLAIN when offered (auto), else USER/PASS; APOP only when asked for."""
        if any(ch in value for value in (username, password) for ch in "\r\n\0"):
            raise AuthError(
                f"cannot log in to POP3 server {self._label}: the user name or password "
                "contains a line break or NUL character"
            )
        if mechanism == "auto":
            mechanism = "plain" if "PLAIN" in self.capabilities.get("SASL", ()) else "user"
        with self._exclusive("login"):
            if mechanism == "user":
                await self._login_step(f"USER {username}", f"USER {username}")
                await self._login_step(f"PASS {password}", "PASS ***")
            elif mechanism == "apop":
                await self._login_apop(username, password)
            else:
                await self._login_plain(username, password)
            self._sizes = None
            if self.capabilities:
                # RFC 2449: capabilities may differ once the mailbox is open (e.g. PIPELINING).
                await self._load_capabilities()

    async def _login_step(self, command: str, shown: str) -> bytes:
        self._send(command, shown=shown)
        ok, text = self._status(await self._wire.read_status_line(), shown.split()[0])
        if not ok:
            raise self._login_error(text)
        return text

    async def _login_apop(self, username: str, password: str) -> None:
        if self._apop_timestamp is None:
            raise AuthError(
                f"POP3 server {self._label} does not offer APOP (no timestamp in its greeting)"
            )
        digest = hashlib.md5(
            self._apop_timestamp + password.encode("utf-8"), usedforsecurity=False
        ).hexdigest()
        await self._login_step(f"APOP {username} {digest}", f"APOP {username} ***")

    async def _login_plain(self, username: str, password: str) -> None:
        blob = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
        self._send(f"AUTH PLAIN {blob}", shown="AUTH PLAIN ***")
        line = await self._wire.read_status_line()
        if line == b"+" or line.startswith(b"+ "):
            # The server ignored the initial response and asks for it; RFC 5034 allows resending.
            self._send(blob, shown="***")
            line = await self._wire.read_status_line()
        ok, text = self._status(line, "AUTH PLAIN")
        if not ok:
            raise self._login_error(text)

    def _login_error(self, text: bytes) -> ProtocolError:
        reason = _reason(text)
        if reason.upper().startswith(_NOT_A_CREDENTIAL_PROBLEM):
            return ProtocolError(f"POP3 server {self._label} could not open the mailbox: {reason}")
        return AuthError(f"POP3 server {self._label} refused the login: {reason}")

    # Transaction

    async def stat(self) -> tuple[int, int]:
        """Return (message count, total size in bytes) of the maildrop."""
        with self._exclusive("STAT"):
            text = await self._command("STAT")
        if (match := _STAT_REPLY.fullmatch(text)) is None:
            raise self._bad_listing("STAT", text)
        return int(match[1]), int(match[2])

    async def list(self) -> dict[int, int]:
        """Return message number -> size in bytes for every message not marked deleted."""
        with self._exclusive("LIST"):
            return await self._list()

    async def _list(self) -> dict[int, int]:
        body = await self._listing("LIST", self.settings.max_message_size)
        if body is None:
            raise ProtocolError(f"POP3 server {self._label} refused LIST")
        try:
            numbers, sizes = listing_fields(body, _PLAIN_LIST, _LIST_LINE)
        except MalformedLine as error:
            raise self._bad_listing("LIST", error.line) from None
        self._sizes = dict(zip(map(int, numbers), map(int, sizes), strict=True))
        return dict(self._sizes)

    async def uidl(self) -> dict[int, str] | None:
        """Return message number -> unique id, or None when the server does not support UIDL."""
        with self._exclusive("UIDL"):
            body = await self._listing("UIDL", self.settings.max_message_size)
        if body is None:
            return None
        try:
            numbers, uidls = listing_fields(body, _PLAIN_UIDL, _UIDL_LINE)
        except MalformedLine as error:
            raise self._bad_listing("UIDL", error.line) from None
        return dict(zip(map(int, numbers), (u.decode("ascii") for u in uidls), strict=True))

    def _bad_listing(self, command: str, line: bytes) -> ProtocolError:
        shown = clean_server_text(line, 80)
        return ProtocolError(
            f"POP3 server {self._label} sent a malformed {command} line: {shown!r}"
        )

    async def retr(self, msgno: int) -> bytes:
        """Download message ``msgno`` exactly as stored (dot-unstuffed, line endings as sent)."""
        with self._exclusive("RETR"):
            self._refuse_if_too_large(msgno)
            self._send(f"RETR {msgno}")
            return await self._read_message(msgno)

    async def retr_many(
        self, msgnos: Sequence[int], window: int = 32
    ) -> AsyncIterator[tuple[int, bytes]]:
        """Yield (msgno, message) in order, with up to ``window`` RETRs in flight if PIPELINING.

        On a -ERR the messages before it are yielded, then ProtocolError is raised. Leaving
        the loop early with replies outstanding closes the connection (no QUIT).
        """
        with self._exclusive("RETR"):
            if self._sizes is None and msgnos:
                await self._list()  # one round trip buys refusing oversized messages unread
            replies = self._pipeline(
                "RETR", msgnos, window, self._read_message, check=self._refuse_if_too_large
            )
            async with contextlib.aclosing(replies):
                async for msgno, message in replies:
                    yield msgno, message

    async def _pipeline(
        self,
        verb: str,
        msgnos: Sequence[int],
        window: int,
        read_reply: Callable[[int], Awaitable[_Reply]],
        check: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[tuple[int, _Reply], None]:
        """Send ``verb msgno`` for each message, ``window`` at a time under PIPELINING.

        Replies come back in order. After the first -ERR (or refusal by ``check``) no new
        command is sent and the error is raised once the replies already asked for are read:
        those before the failure are yielded, those after a -ERR dropped, so the session stays
        in step. Abandoned with replies outstanding, the connection is aborted, as nobody will
        read them.
        """
        depth = max(1, window) if "PIPELINING" in self.capabilities else 1
        pending = iter(msgnos)
        in_flight: deque[int] = deque()
        refused: ProtocolError | None = None  # by ``check``: every reply in flight comes first
        failed: ProtocolError | None = None  # a -ERR: the replies after it are dropped
        try:
            while True:
                # Refill in bursts once half the window is answered: one write per burst
                # instead of one system call per command.
                burst: list[str] = []
                room = depth - len(in_flight) if len(in_flight) <= depth // 2 else 0
                while refused is None and failed is None and len(burst) < room:
                    if (msgno := next(pending, None)) is None:
                        break
                    try:
                        if check is not None:
                            check(msgno)
                    except ProtocolError as error:
                        refused = error
                        break
                    burst.append(f"{verb} {msgno}")
                    in_flight.append(msgno)
                if burst:
                    self._send(*burst)
                if not in_flight:
                    break
                try:
                    reply = await read_reply(in_flight[0])
                except ProtocolError as error:
                    if not self._wire.is_open:
                        raise
                    failed = failed or error  # a -ERR: the session is still in step
                    in_flight.popleft()
                    continue
                msgno = in_flight.popleft()
                if failed is None:
                    yield msgno, reply
            if (failure := failed or refused) is not None:
                raise failure
        finally:
            if in_flight:
                self._wire.abort()

    async def _read_message(self, msgno: int) -> bytes:
        text = self._expect_ok(await self._wire.read_status_line(), f"RETR {msgno}")
        limit = self.settings.max_message_size
        # RFC 1939 servers announce "+OK <octets> octets": no need to read what we would refuse.
        if (match := _LEADING_NUMBER.match(text)) and int(match[1]) > limit:
            self._wire.abort()
            raise self._too_large(msgno, int(match[1]), closed=True)
        return await self._wire.read_body(limit, f"message {msgno}")

    def _refuse_if_too_large(self, msgno: int) -> None:
        size = (self._sizes or {}).get(msgno)
        if size is not None and size > self.settings.max_message_size:
            raise self._too_large(msgno, size, closed=False)

    def _too_large(self, msgno: int, size: int, *, closed: bool) -> ProtocolError:
        limit = format_size(self.settings.max_message_size)
        tail = "; connection closed" if closed else ""
        return ProtocolError(
            f"message {msgno} on POP3 server {self._label} is {format_size(size)}, "
            f"over the {limit} max_message_size limit{tail}"
        )

    async def top(self, msgno: int, lines: int) -> bytes:
        """Return the header and the first ``lines`` body lines of message ``msgno``."""
        with self._exclusive("TOP"):
            command = f"TOP {msgno} {lines}"
            self._send(command)
            self._expect_ok(await self._wire.read_status_line(), command)
            return await self._wire.read_body(self.settings.max_message_size, f"message {msgno}")

    async def dele(self, msgno: int) -> None:
        """Mark message ``msgno`` deleted; the server removes it only at :meth:`quit`."""
        with self._exclusive("DELE"):
            await self._command(f"DELE {msgno}")

    async def dele_many(self, msgnos: Sequence[int], window: int = 32) -> None:
        """Mark several messages deleted, pipelined when the server allows PIPELINING.

        Raises the first refusal; DELEs already in flight by then still take effect.
        """
        with self._exclusive("DELE"):
            replies = self._pipeline("DELE", msgnos, window, self._read_dele_reply)
            async with contextlib.aclosing(replies):
                async for _reply in replies:
                    pass

    async def _read_dele_reply(self, msgno: int) -> None:
        self._expect_ok(await self._wire.read_status_line(), f"DELE {msgno}")

    async def rset(self) -> None:
        """Unmark every message marked deleted in this session."""
        with self._exclusive("RSET"):
            await self._command("RSET")

    async def noop(self) -> None:
        """Ask the server to do nothing: a keep-alive and a check that it still answers."""
        with self._exclusive("NOOP"):
            await self._command("NOOP")

    async def quit(self) -> None:
        """Send QUIT, which makes this session's deletions final, and close the connection."""
        with self._exclusive("QUIT"):
            try:
                await self._command("QUIT")
            finally:
                await self._wire.close()

    async def close(self) -> None:
        """Drop the connection without QUIT: the server forgets this session's deletions."""
        await self._wire.close()


def _reason(text: bytes) -> str:
    return clean_server_text(text) or "no reason given"
