"""A man in the middle attacks STARTTLS between tuimail and the real test servers (Dovecot for
IMAP and POP3, aiosmtpd for SMTP) during a real sync or send.

Three attacks, after "Why TLS is better without STARTTLS" (USENIX Security 2021): forged
replies injected in the same segment as the server's go-ahead (``inject``), the STARTTLS offer
deleted from the capabilities (``strip``), and plaintext instead of the server's TLS handshake
(``break``). In every case the relay must never see a credential in any form, nothing it
injected may be believed, and an attack that prevents TLS ends in one clear error line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness.accounts import account, imap_table, pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tests.reliability.proxies import StartTlsMitm
from tests.reliability.secret_forms import encodings
from tests.sync.outbox_child import ACCOUNT, account_config
from tuimail.demo.mailbox import generate
from tuimail.errors import TuimailError
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.accounts import sync_pop3
from tuimail.sync.imap_sync import sync_imap_account
from tuimail.sync.outbox import Outbox

pytestmark = pytest.mark.timeout(30)

COUNT = 5
# Verbs that carry a credential, in each protocol, as they would appear in plaintext.
CREDENTIAL_VERBS = (b"LOGIN ", b"AUTHENTICATE ", b"AUTH ", b"USER ", b"PASS ", b"APOP ")
TLS_HANDSHAKE = b"\x16\x03"  # a TLS record header: what must follow the STARTTLS command


@dataclass
class Outcome:
    """What the user got from the run through the relay."""

    error: str | None  # the one line shown, or None when the run succeeded
    arrived: int  # messages stored (IMAP, POP3) or delivered (SMTP)
    secrets: list[bytes]  # every form in which the password could cross the wire


async def message_count(store: Store) -> int:
    async with store.session() as session:
        folder = await queries.folder_by_name(session, "x", "INBOX")
        return len(await queries.list_messages(session, folder.id))


async def run_sync(
    store: Store, protocol: str, relay_port: int, dovecot: Dovecot, user: MailUser
) -> Outcome:
    """An IMAP or POP3 sync of the Dovecot user through the relay."""
    secrets = sorted(encodings(user.password, user.name))
    make_table, sync = (
        (imap_table, sync_imap_account) if protocol == "imap" else (pop3_table, sync_pop3)
    )
    table = make_table(dovecot, user, port=relay_port, security="starttls", timeout=5.0)
    try:
        await sync(store, "x", account(table))
    except TuimailError as exc:
        return Outcome(str(exc), 0, secrets)
    return Outcome(None, await message_count(store), secrets)


async def run_smtp(store: Store, relay_port: int, server: SmtpTestServer) -> Outcome:
    config = account_config(
        server.host, relay_port, server.ca_file, server.username, server.password
    )

    async def keep(account: str, raw: bytes) -> None:
        pass

    outbox = Outbox(store, {ACCOUNT: config}, sent_sink=keep, local_hostname="client.test")
    raw = b"From: sender@example.org\r\nTo: ann@example.com\r\nSubject: hi\r\n\r\nHello.\r\n"
    await outbox.submit(ACCOUNT, raw, "sender@example.org", ["ann@example.com"])
    report = await outbox.flush()
    error = report.account_errors.get(ACCOUNT)
    return Outcome(error, len(server.messages), sorted(encodings(server.password, server.username)))


@dataclass(frozen=True)
class Protocol:
    command: bytes  # what the client sends to start TLS
    offer: bytes  # how the server offers it, deleted by ``strip``
    injection: bytes  # forged replies that would derail the session if believed
    discard_note: str | None  # what our client logs when it drops injected bytes


PROTOCOLS = {
    "imap": Protocol(
        b"STARTTLS",
        b" STARTTLS",
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED INJECTED\r\n"
        b"* 99 EXISTS\r\nT2 OK [CAPABILITY IMAP4rev1 INJECTED] forged\r\nT3 NO forged login\r\n",
        "after its OK to STARTTLS; discarded",
    ),
    "pop3": Protocol(
        b"STLS",
        b"STLS\r\n",
        b"+OK forged capability list\r\nUSER\r\n.\r\n-ERR forged login failure\r\n",
        "after +OK to STLS; discarded",
    ),
    # aiosmtplib (>= 5.1.2) drops them itself; nothing is logged.
    "smtp": Protocol(
        b"STARTTLS", b"250-STARTTLS\r\n", b"250-forged.example\r\n250 AUTH LOGIN\r\n", None
    ),
}
ERRORS = {"strip": "does not offer STARTTLS", "break": "TLS"}

Runner = Callable[[int], Awaitable[Outcome]]


@pytest.mark.parametrize("attack", ["inject", "strip", "break"])
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
async def test_a_man_in_the_middle_never_sees_a_credential_and_is_never_believed(
    request: pytest.FixtureRequest,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    protocol: str,
    attack: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="tuimail")
    spec = PROTOCOLS[protocol]
    upstream: int
    run: Runner
    if protocol == "smtp":
        server: SmtpTestServer = request.getfixturevalue("smtp_server")
        upstream = server.port

        def run(port: int) -> Awaitable[Outcome]:
            return run_smtp(store, port, server)

    else:
        dovecot: Dovecot = request.getfixturevalue("dovecot")
        user: MailUser = request.getfixturevalue("mail_user")
        dovecot.deliver(user, [m.raw for m in generate(COUNT, seed=2, malformed_every=0)])
        upstream = dovecot.imap_port if protocol == "imap" else dovecot.pop3_port

        def run(port: int) -> Awaitable[Outcome]:
            return run_sync(store, protocol, port, dovecot, user)

    options: dict[str, Any] = {"injection": spec.injection, "offer": spec.offer}
    async with StartTlsMitm(upstream, spec.command, attack, **options) as mitm:
        outcome = await run(mitm.port)
        assert mitm.struck.is_set(), "the attack never happened: the case tested nothing"

    heard = bytes(mitm.heard)
    for secret in outcome.secrets:
        assert secret not in heard, "a credential crossed the relay"
    plaintext = bytes(mitm.plaintext)
    assert not any(verb in plaintext.upper() for verb in CREDENTIAL_VERBS)
    if attack == "inject":
        assert outcome.error is None, outcome.error
        assert outcome.arrived == (1 if protocol == "smtp" else COUNT)
        assert heard[len(plaintext) :].startswith(TLS_HANDSHAKE)  # nothing plain after it
        if spec.discard_note is not None:
            assert spec.discard_note in caplog.text
    else:
        assert outcome.error is not None and ERRORS[attack] in outcome.error
        assert "\n" not in outcome.error
        assert outcome.arrived == 0
