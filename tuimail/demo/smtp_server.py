"""The demo SMTP server: aiosmtpd on a loopback port, delivering to the demo mailboxes.

It accepts AUTH PLAIN and LOGIN for the demo users without TLS (tuimail allows
``security = "none"`` only to loopback addresses, and nothing here leaves the machine). Mail to
a demo address is handed to that mailbox's ``deliver``; mail to anyone else is accepted and
dropped, so sending to a made-up address in the demo behaves like sending for real.

aiosmtpd runs here on the caller's event loop rather than through its ``Controller``, which
would start a thread and loop of its own: delivery must run on the loop of the IMAP server.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

log = logging.getLogger(__name__)

Deliver = Callable[[bytes], Awaitable[None]]
HOSTNAME = "demo.tuimail.test"


class _DropLoginDataNotice(logging.Filter):
    """aiosmtpd 1.4 warns "login_data is deprecated" on every login its own code performs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


_AIOSMTPD_LOG = logging.getLogger("mail.log")  # aiosmtpd's logger


class _Handler:
    """aiosmtpd hooks: a login before MAIL, then delivery by recipient address."""

    def __init__(self, server: DemoSmtpServer) -> None:
        self.server = server

    async def handle_MAIL(  # the hook names are aiosmtpd's
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        # aiosmtpd's auth_required without TLS prints a security warning on the terminal; the
        # demo asks for the login here instead.
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        delivered = 0
        for recipient in {r.lower() for r in envelope.rcpt_tos}:
            deliver = self.server.mailboxes.get(recipient)
            if deliver is not None:
                await deliver(b"Return-Path: <" + envelope.mail_from.encode() + b">\r\n" + raw)
                delivered += 1
        log.debug("demo SMTP: %d recipients, %d delivered here", len(envelope.rcpt_tos), delivered)
        return "250 2.0.0 OK: delivered"


class DemoSmtpServer:
    """Submission for the demo users; ``mailboxes`` maps an address to its delivery."""

    def __init__(self, logins: Mapping[str, str], mailboxes: Mapping[str, Deliver]) -> None:
        self._logins = dict(logins)
        if not any(isinstance(f, _DropLoginDataNotice) for f in _AIOSMTPD_LOG.filters):
            _AIOSMTPD_LOG.addFilter(_DropLoginDataNotice())
        self.mailboxes = {address.lower(): deliver for address, deliver in mailboxes.items()}
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[Any] = weakref.WeakSet()
        self.port = 0

    def _authenticate(
        self, smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        expected = self._logins.get(user)
        ok = expected is not None and hmac.compare_digest(data.password, expected.encode())
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    def _protocol(self) -> Any:
        smtp = SMTP(
            _Handler(self),
            hostname=HOSTNAME,  # aiosmtpd's default asks socket.getfqdn(), which may wait on DNS
            authenticator=self._authenticate,
            auth_require_tls=False,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(smtp)
        return smtp

    async def start(self, host: str) -> int:
        """Listen on a free port of ``host``; returns it."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and close every session (aiosmtpd then cancels its own tasks)."""
        if self._server is None:
            return
        self._server.close()
        tasks = []
        for smtp in list(self._sessions):
            if smtp.transport is not None:
                smtp.transport.close()
            if smtp._handler_coroutine is not None:  # aiosmtpd's per-session task
                tasks.append(smtp._handler_coroutine)
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
