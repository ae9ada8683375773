"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, STARTTLS and implicit TLS, AUTH.

``smtp_server`` starts two listeners in a background thread: ``port`` speaks plain SMTP, offers
STARTTLS and allows AUTH only after it; ``tls_port`` is implicit TLS. Both require a login
(``username``/``password``, PLAIN, LOGIN or XOAUTH2 with ``oauth2_token``) before MAIL.
Certificates come from a trustme CA written to ``ca_file``.

Tests can make the server answer badly (``mail_reply``, ``rcpt_replies``, ``data_reply``),
hold a DATA without answering (``hold_next_data``), stop and start it again on the same ports,
and wait for deliveries with ``await server.wait_for(n)``, which waits on an event.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.harness.dovecot import free_port
from tests.harness.fixtures import require

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:  # pragma: no cover - reported by require() in the fixture
    Controller = None


@dataclass(frozen=True)
class Received:
    """One accepted delivery: the envelope and the bytes exactly as they arrived."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    mail_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Login:
    """One AUTH attempt as the server saw it (never the secret)."""

    mechanism: str
    username: str
    success: bool


class DataHold:
    """Keeps the next DATA unanswered: the server has the whole message and says nothing."""

    def __init__(self, notify: Callable[[], None]) -> None:
        self._notify = notify
        self._lock = threading.Lock()
        self._released = False
        self._wake: Callable[[], None] | None = None
        self.arrived = False
        self.accept = False

    async def _block(self) -> None:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            self.arrived = True
            if not self._released:
                self._wake = lambda: loop.call_soon_threadsafe(event.set)
        self._notify()
        if self._wake is not None:
            await event.wait()

    def release(self, *, accept: bool = False) -> None:
        """Let the held DATA finish: ``accept`` stores it and answers 250, else nothing is kept."""
        with self._lock:
            self._released = True
            self.accept = accept
            wake = self._wake
        if wake is not None:
            wake()


class _Handler:
    """aiosmtpd hooks; they run in the server's thread and read the knobs of the server."""

    def __init__(self, server: SmtpTestServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not session.authenticated and not self.server.open_relay:
            return "530 5.7.0 Authentication required"
        if self.server.mail_reply:
            return self.server.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.server.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        hold = self.server._take_hold()
        if hold is not None:
            await hold._block()
            if not hold.accept:
                return "451 4.3.0 held and dropped by the test"
        if self.server.data_reply:
            return self.server.data_reply
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=envelope.original_content,
            mail_options=tuple(envelope.mail_options),
        )
        count = self.server._record(received)
        return f"250 2.0.0 Ok: queued as TEST{count}"

    async def auth_XOAUTH2(self, smtp: Any, args: list[str]) -> Any:
        try:
            fields = base64.b64decode(args[1]).split(b"\x01")
            user = fields[0].removeprefix(b"user=").decode()
            token = fields[1].removeprefix(b"auth=Bearer ").decode()
        except (IndexError, ValueError):
            return AuthResult(success=False, handled=False, message="501 5.5.2 bad XOAUTH2")
        ok = user == self.server.username and token == self.server.oauth2_token
        self.server.logins.append(Login("XOAUTH2", user, ok))
        if ok:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False, message="535 5.7.8 invalid token")


@dataclass
class SmtpTestServer:
    """A running aiosmtpd pair (STARTTLS port and implicit-TLS port) and what it received."""

    ca_file: Path
    server_context: ssl.SSLContext
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    username: str = "sender@example.org"
    password: str = "s3cret-Pässword-42"
    oauth2_token: str = "ya29.test-token-SECRET"
    messages: list[Received] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)
    mail_reply: str | None = None
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    excluded_mechanisms: tuple[str, ...] = ()  # e.g. ("PLAIN",) to see LOGIN used; then start()
    open_relay: bool = False  # one plain listener on ``port``, no TLS, no AUTH offered or needed
    _controllers: list[Any] = field(default_factory=list)
    _holds: list[DataHold] = field(default_factory=list)
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this server's CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def start(self) -> None:
        """Listen on ``port`` and ``tls_port`` (again, after ``stop``)."""
        if self.open_relay:
            relay = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=10)
            relay.start()
            self._controllers.append(relay)
            return
        common = {
            "hostname": self.host,
            "server_hostname": "smtp.test",
            "authenticator": self._authenticate,
            "auth_exclude_mechanism": self.excluded_mechanisms,
            "ready_timeout": 10,
        }
        plain = Controller(
            _Handler(self),
            port=self.port,
            tls_context=self.server_context,
            auth_require_tls=True,
            auth_required=True,
            **common,
        )
        # aiosmtpd only counts STARTTLS as encryption, so implicit TLS must allow AUTH itself;
        # handle_MAIL insists on a login instead of auth_required, which would warn about it.
        implicit = Controller(
            _Handler(self),
            port=self.tls_port,
            ssl_context=self.server_context,
            auth_require_tls=False,
            **common,
        )
        for controller in (plain, implicit):
            controller.start()
            self._controllers.append(controller)

    def stop(self) -> None:
        """Stop listening; held DATA commands are dropped."""
        for hold in self._holds:
            hold.release(accept=False)
        while self._controllers:
            self._controllers.pop().stop()

    def hold_next_data(self) -> DataHold:
        """Make the next DATA wait, unanswered, until the test releases it."""
        hold = DataHold(self._notify)
        with self._lock:
            self._holds.append(hold)
        return hold

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until ``count`` messages have arrived; returns them all."""
        await self.wait_until(lambda: len(self.messages) >= count, timeout)
        return list(self.messages)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait, on an event set by the server thread, until ``condition()`` holds."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    await event.wait()
                    event.clear()
        finally:
            with self._lock:
                self._waiters.remove(entry)

    def _notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def _record(self, received: Received) -> int:
        with self._lock:
            self.messages.append(received)
            count = len(self.messages)
        self._notify()
        return count

    def _take_hold(self) -> DataHold | None:
        with self._lock:
            pending = [hold for hold in self._holds if not hold.arrived]
        return pending[0] if pending else None

    def _authenticate(
        self, smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> Any:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        ok = user == self.username and data.password == self.password.encode("utf-8")
        self.logins.append(Login(mechanism, user, ok))
        return AuthResult(success=ok, handled=False, auth_data=user)


@pytest.fixture(scope="session")
def smtp_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A CA file and a server context whose certificate (localhost, 127.0.0.1) it signed."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    directory = tmp_path_factory.mktemp("smtp-ca")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return ca_file, context


@pytest.fixture
def smtp_server(smtp_ca: tuple[Path, ssl.SSLContext]) -> Iterator[SmtpTestServer]:
    """A fresh aiosmtpd for one test (started in well under a second)."""
    require(Controller is not None, "aiosmtpd")
    ca_file, context = smtp_ca
    server = SmtpTestServer(ca_file=ca_file, server_context=context)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_relay(smtp_ca: tuple[Path, ssl.SSLContext]) -> Iterator[SmtpTestServer]:
    """A relay on this machine: plain SMTP on ``port``, no STARTTLS, no AUTH."""
    require(Controller is not None, "aiosmtpd")
    ca_file, context = smtp_ca
    server = SmtpTestServer(ca_file=ca_file, server_context=context, open_relay=True)
    server.start()
    yield server
    server.stop()
