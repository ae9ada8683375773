"""Certificates are verified by default for IMAP, POP3 and SMTP: a server whose certificate comes
from a CA the system does not know is refused with one clear line before any login. Turning
verification off takes an explicit ``tls_verify = false`` on the account, and every connection
made that way logs a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.harness.accounts import account, imap_table, pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tuimail.config import AccountConfig
from tuimail.errors import TLSError
from tuimail.store.db import Store
from tuimail.sync.accounts import sync_pop3
from tuimail.sync.imap_sync import sync_imap_account
from tuimail.sync.outbox import Outbox

pytestmark = pytest.mark.timeout(30)

WARNING = "TLS certificate verification is off"


def smtp_account(server: SmtpTestServer, **overrides: Any) -> AccountConfig:
    smtp = {
        "host": server.host,
        "port": server.tls_port,
        "security": "tls",
        "username": server.username,
        "password": server.password,
        "timeout": 5.0,
        **overrides,
    }
    receiver = {"host": "127.0.0.1", "port": 9, "security": "none"}
    return account({"email": "sender@example.org", "imap": receiver, "smtp": smtp})


async def send_once(store: Store, server: SmtpTestServer, config: AccountConfig) -> str | None:
    """Queue and flush one message; the account's error line, or None once it was sent."""

    async def keep(name: str, raw: bytes) -> None:
        pass

    outbox = Outbox(store, {"x": config}, sent_sink=keep, local_hostname="client.test")
    raw = b"From: sender@example.org\r\nTo: ann@example.com\r\nSubject: hi\r\n\r\nHello.\r\n"
    await outbox.submit("x", raw, "sender@example.org", ["ann@example.com"])
    report = await outbox.flush(now=4_000_000_000)
    return report.account_errors.get("x")


Run = Callable[..., Awaitable[str | None]]


def runner(request: pytest.FixtureRequest, store: Store, protocol: str) -> Run:
    """Run one sync (or send) with the given server overrides; the error line, or None."""
    if protocol == "smtp":
        server: SmtpTestServer = request.getfixturevalue("smtp_server")

        async def send(**overrides: Any) -> str | None:
            return await send_once(store, server, smtp_account(server, **overrides))

        return send
    dovecot: Dovecot = request.getfixturevalue("dovecot")
    user: MailUser = request.getfixturevalue("mail_user")
    make_table = imap_table if protocol == "imap" else pop3_table

    async def sync(**overrides: Any) -> str | None:
        table = make_table(dovecot, user, **overrides)
        del table[protocol]["tls_ca_file"]  # the system store, as for a user who sets none
        try:
            if protocol == "imap":
                await sync_imap_account(store, "x", account(table))
            else:
                await sync_pop3(store, "x", account(table))
        except TLSError as exc:
            return str(exc)
        return None

    return sync


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
async def test_an_unknown_ca_is_refused_by_default_with_one_line(
    request: pytest.FixtureRequest, store: Store, protocol: str
) -> None:
    error = await runner(request, store, protocol)()
    assert error is not None and "\n" not in error
    assert "certificate" in error.lower()
    if protocol == "smtp":
        server: SmtpTestServer = request.getfixturevalue("smtp_server")
        assert server.logins == [] and server.messages == []


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
async def test_tls_verify_false_connects_and_warns_on_every_connection(
    request: pytest.FixtureRequest,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    protocol: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="tuimail")
    run = runner(request, store, protocol)
    assert await run(tls_verify=False) is None
    assert await run(tls_verify=False) is None
    warnings = [r for r in caplog.records if WARNING in r.getMessage()]
    assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)
