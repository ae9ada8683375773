"""The IMAP client against scripted servers that misbehave in ways a real one will not."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme

from tests.protocols.imap_fake import (
    FakeImapServer,
    FakeSession,
    assert_no_secret_logged,
    start_tls,
)
from tuimail.errors import AuthError, ConnectionLost, ProtocolError, TLSError
from tuimail.protocols import imap_session
from tuimail.protocols.imap import ImapClient, ImapSettings
from tuimail.protocols.imap_records import Exists, FlagsChanged

CREDENTIAL_VERBS = {b"LOGIN", b"AUTHENTICATE"}
PASSWORD = 's3cret-Pa55"\\word'
TOKEN = "ya29.token-that-must-never-be-logged"


def settings(server: FakeImapServer, **overrides: Any) -> ImapSettings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "security": "none"}
    values["timeout"] = 5.0
    values.update(overrides)
    return ImapSettings(**values)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
async def server() -> AsyncIterator[FakeImapServer]:
    async with FakeImapServer() as fake:
        yield fake


# STARTTLS


async def test_starttls_not_advertised_raises_tls_error_before_any_credential(
    client_tls: ssl.SSLContext,
) -> None:
    async with FakeImapServer() as fake:  # no STARTTLS in its capabilities
        with pytest.raises(TLSError, match="does not offer STARTTLS"):
            await ImapClient.connect(settings(fake, security="starttls", ssl_context=client_tls))
    assert not CREDENTIAL_VERBS & set(fake.received_verbs())
    assert fake.received_verbs() == [b"CAPABILITY"]


async def test_starttls_refused_by_the_server_raises_tls_error(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    class Refusing(FakeImapServer):
        async def handle_starttls(self, session: FakeSession, tag: bytes, args: bytes) -> None:
            await session.send(tag + b" NO [UNAVAILABLE] not today\r\n")

    async with Refusing(starttls=server_tls) as fake:
        with pytest.raises(TLSError, match="refused STARTTLS: not today"):
            await ImapClient.connect(settings(fake, security="starttls", ssl_context=client_tls))
    assert not CREDENTIAL_VERBS & set(fake.received_verbs())


async def test_responses_injected_after_the_starttls_ok_are_not_believed(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    class Injecting(FakeImapServer):
        async def handle_starttls(self, session: FakeSession, tag: bytes, args: bytes) -> None:
            # One write: the OK, then forged replies for the CAPABILITY that follows TLS.
            await session.send(
                tag + b" OK Begin TLS\r\n"
                b"* OK injected\r\n"
                b"* CAPABILITY IMAP4rev1 AUTH=PLAIN INJECTED\r\n"
                b"T3 OK forged\r\n"
            )
            await start_tls(session, server_tls)

    async with Injecting(starttls=server_tls) as fake:
        client = await ImapClient.connect(
            settings(fake, security="starttls", ssl_context=client_tls)
        )
        async with client:
            assert "INJECTED" not in client.capabilities
            assert "AUTH=XOAUTH2" in client.capabilities  # the list sent over TLS
            await client.login("alice", PASSWORD)
    assert fake.authenticated == [b"\0alice\0" + PASSWORD.encode()]


async def test_starttls_checks_the_certificate_against_the_host_name(
    server_tls: ssl.SSLContext,
) -> None:
    async with FakeImapServer(starttls=server_tls) as fake:
        with pytest.raises(TLSError, match="untrusted TLS certificate"):
            # The system store does not know the test CA.
            await ImapClient.connect(settings(fake, security="starttls"))
    assert not CREDENTIAL_VERBS & set(fake.received_verbs())


# Timeouts and limits


async def test_a_server_that_stalls_raises_connection_lost_after_the_timeout() -> None:
    class Stalling(FakeImapServer):
        async def handle_capability(self, session: FakeSession, tag: bytes, args: bytes) -> None:
            await session.reader.read()  # never answers; returns when the client gives up

    async with Stalling() as fake:
        with pytest.raises(ConnectionLost, match=r"did not answer within 0\.3 s"):
            await ImapClient.connect(settings(fake, timeout=0.3))


async def test_a_server_without_a_greeting_raises_connection_lost() -> None:
    class Silent(FakeImapServer):
        greeting = b""

    async with Silent() as fake:
        with pytest.raises(ConnectionLost):
            await ImapClient.connect(settings(fake, timeout=0.3))


async def test_a_literal_announced_as_4_gb_is_refused_without_allocating_it(
    server: FakeImapServer,
) -> None:
    async def huge_fetch(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(b"* 1 FETCH (UID 1 BODY[] {4294967296}\r\n" + b"x" * 4096)

    server.handle_uid = huge_fetch  # type: ignore[attr-defined]
    client = await ImapClient.connect(settings(server))
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="announced 4 GiB of data, over the 100 MiB limit"):
            await client.fetch_body(1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024
    with pytest.raises(ConnectionLost):  # the session cannot be trusted any more
        await client.noop()


async def test_an_endless_line_is_refused_at_the_line_limit(server: FakeImapServer) -> None:
    async def endless(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(b"* OK " + b"a" * 300_000)

    server.handle_noop = endless  # type: ignore[method-assign]
    client = await ImapClient.connect(settings(server, max_line_length=100_000))
    with pytest.raises(ProtocolError, match=r"longer than 97\.7 KiB"):
        await client.noop()


async def test_a_response_of_endless_empty_literals_is_bounded(server: FakeImapServer) -> None:
    async def endless(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(b"* OK x {0}\r\n" * 2000)

    server.handle_noop = endless  # type: ignore[method-assign]
    settings_ = settings(server, max_line_length=1000, max_message_size=1000)
    client = await ImapClient.connect(settings_)
    with pytest.raises(ProtocolError, match="over the 1000 bytes limit"):
        await client.noop()


async def test_news_arriving_during_a_header_fetch_becomes_events(server: FakeImapServer) -> None:
    header = (
        b'* 1 FETCH (UID 7 FLAGS () INTERNALDATE "01-Feb-2026 10:00:00 +0000" RFC822.SIZE 5 '
        b'ENVELOPE (NIL "hi" NIL NIL NIL NIL NIL NIL NIL "<a@b>") '
        b'BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 1 1) '
        b"BODY[HEADER.FIELDS (REFERENCES)] {2}\r\n\r\n)\r\n"
    )

    async def fetch(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(
            header
            + b"* 2 EXISTS\r\n* 1 FETCH (FLAGS (\\Seen))\r\n"
            + header.replace(b"UID 7", b"UID 8")
            + tag
            + b" OK done\r\n* 3 EXISTS\r\n"  # news after the command ended, in the same write
        )

    server.handle_uid = fetch  # type: ignore[attr-defined]
    async with await ImapClient.connect(settings(server)) as client:
        records = [r async for group in client.fetch_header_groups("1:*") for r in group]
        assert [r.uid for r in records] == [7, 8]
        assert [r.envelope.subject for r in records] == ["hi", "hi"]
        events = client.take_events() + await client.noop()
        assert events == [Exists(2), FlagsChanged(1, None, frozenset({"\\Seen"})), Exists(3)]


async def test_a_response_trickling_in_byte_by_byte_is_reassembled(server: FakeImapServer) -> None:
    message = b"Subject: slow\r\n\r\nline one\r\n)(line two {3}\r\n"

    async def trickle(session: FakeSession, tag: bytes, args: bytes) -> None:
        reply = b"* 1 FETCH (UID 5 BODY[] {%d}\r\n%s)\r\n%s OK done\r\n" % (
            len(message),
            message,
            tag,
        )
        for index in range(len(reply)):
            await session.send(reply[index : index + 1])

    server.handle_uid = trickle  # type: ignore[attr-defined]
    async with await ImapClient.connect(settings(server)) as client:
        assert await client.fetch_body(5) == message


async def test_bye_and_hangup_report_the_servers_reason(server: FakeImapServer) -> None:
    async def shutting_down(session: FakeSession, tag: bytes, args: bytes) -> str:
        await session.send(b"* BYE System going down \x1b[2J for maintenance\r\n")
        return "logout"

    server.handle_noop = shutting_down  # type: ignore[method-assign,assignment]
    client = await ImapClient.connect(settings(server))
    with pytest.raises(ConnectionLost, match=r"System going down for maintenance$") as caught:
        await client.noop()
    assert "\x1b" not in str(caught.value) and "\n" not in str(caught.value)


async def test_refusals_are_one_sanitised_line(server: FakeImapServer) -> None:
    async def refuse(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(tag + b" NO [NONEXISTENT] no \x1b]8;;http://evil\x07such folder\r\n")

    server.handle_status = refuse  # type: ignore[attr-defined]
    async with await ImapClient.connect(settings(server)) as client:
        with pytest.raises(ProtocolError) as caught:
            await client.status("Gone")
    assert str(caught.value) == (
        f"IMAP server 127.0.0.1:{server.port} refused STATUS: no such folder [NONEXISTENT]"
    )


# Authentication


async def test_login_disabled_refuses_login_without_sending_the_password(
    server: FakeImapServer,
) -> None:
    server.capabilities = b"IMAP4rev1 LOGINDISABLED"
    async with await ImapClient.connect(settings(server)) as client:
        with pytest.raises(AuthError, match="LOGINDISABLED"):
            await client.login("alice", PASSWORD, mechanism="login")
    assert b"LOGIN" not in server.received_verbs()


async def test_authenticate_plain_without_sasl_ir_answers_the_challenge(
    server: FakeImapServer,
) -> None:
    server.capabilities = b"IMAP4rev1 AUTH=PLAIN"
    async with await ImapClient.connect(settings(server)) as client:
        await client.login("alice", PASSWORD)
    assert server.authenticated == [b"\0alice\0" + PASSWORD.encode()]
    assert server.received[1].endswith(b"AUTHENTICATE PLAIN")  # no initial response inline


async def test_xoauth2_and_oauthbearer_send_the_bearer_token(server: FakeImapServer) -> None:
    async with await ImapClient.connect(settings(server)) as client:
        await client.login_oauth2("alice@example.org", TOKEN, mechanism="xoauth2")
    async with await ImapClient.connect(settings(server)) as client:
        await client.login_oauth2("a,b=c@example.org", TOKEN)  # auto: OAUTHBEARER is offered
    assert server.authenticated == [
        f"user=alice@example.org\x01auth=Bearer {TOKEN}\x01\x01".encode(),
        f"n,a=a=2Cb=3Dc@example.org,\x01host=127.0.0.1\x01port={server.port}"
        f"\x01auth=Bearer {TOKEN}\x01\x01".encode(),
    ]


async def test_an_oauth_error_challenge_is_answered_and_raises_auth_error(
    server: FakeImapServer,
) -> None:
    error = base64.b64encode(b'{"status":"401","schemes":"bearer"}')

    async def expired(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(b"+ " + error + b"\r\n")
        reply = await session.read_line()
        assert reply == b"AQ=="  # RFC 7628: a dummy response, then the failure
        await session.send(tag + b" NO [AUTHENTICATIONFAILED] token expired\r\n")

    server.handle_authenticate = expired  # type: ignore[method-assign]
    async with await ImapClient.connect(settings(server)) as client:
        with pytest.raises(AuthError, match="refused the login: token expired"):
            await client.login_oauth2("alice", TOKEN, mechanism="oauthbearer")


async def test_credentials_with_line_breaks_are_refused_before_sending(
    server: FakeImapServer,
) -> None:
    async with await ImapClient.connect(settings(server)) as client:
        with pytest.raises(AuthError, match="line break"):
            await client.login("alice", "pass\r\nT9 LOGOUT")
    assert not CREDENTIAL_VERBS & set(server.received_verbs())


async def test_no_secret_reaches_any_log_record_at_debug(
    server: FakeImapServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ours and every library's
    server.capabilities = b"IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2"  # no SASL-IR: a challenge round
    async with await ImapClient.connect(settings(server)) as client:
        await client.login("alice", PASSWORD, mechanism="login")
    async with await ImapClient.connect(settings(server)) as client:
        await client.login("alice", PASSWORD)
    async with await ImapClient.connect(settings(server)) as client:
        await client.login_oauth2("alice", TOKEN)
    assert_no_secret_logged(caplog, PASSWORD, TOKEN)


async def test_idle_stop_ends_the_iteration_and_sends_done(server: FakeImapServer) -> None:
    started = asyncio.Event()

    async def idle(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(b"+ idling\r\n* 2 EXISTS\r\n")
        started.set()
        assert await session.read_line() == b"DONE"
        await session.send(b"* 3 EXISTS\r\n" + tag + b" OK IDLE done\r\n")

    server.handle_idle = idle  # type: ignore[attr-defined]
    async with await ImapClient.connect(settings(server)) as client:
        await client.select("INBOX")
        seen = []
        async with client.idle(timeout=30) as events:
            async for event in events:
                seen.append(event)
                events.stop()
        assert [type(e).__name__ for e in seen] == ["Exists"]
        assert [getattr(e, "count", None) for e in client.take_events()] == [3]


# Replies without end to what we asked for: each is refused at MAX_CLAIMED, memory bounded.


async def endless(session: FakeSession, line: bytes) -> None:
    """Send ``line`` until the client hangs up (it never gets a tagged reply)."""
    with contextlib.suppress(ConnectionError):
        while True:
            await session.send(line * 500)


@pytest.mark.parametrize(
    ("verb", "line", "call"),
    [
        ("uid", b"* SEARCH 1 2 3 4 5\r\n", lambda client: client.uid_search("ALL")),
        ("uid", b"* 1 FETCH (UID 3 FLAGS (\\Seen))\r\n", lambda client: client.fetch_flags("1:9")),
        ("list", b'* LIST () "/" "Folder"\r\n', lambda client: client.list_folders()),
    ],
    ids=["search", "flag-fetch", "list"],
)
async def test_a_reply_without_end_to_our_own_command_is_refused_with_bounded_memory(
    server: FakeImapServer, monkeypatch: pytest.MonkeyPatch, verb: str, line: bytes, call: Any
) -> None:
    monkeypatch.setattr(imap_session, "MAX_CLAIMED", 20_000)  # a million takes too long here

    async def handle(session: FakeSession, tag: bytes, args: bytes) -> None:
        await endless(session, line)

    setattr(server, f"handle_{verb}", handle)
    client = await ImapClient.connect(settings(server))
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="more than 20,000 responses to") as info:
            await call(client)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await client.close()
    assert "\n" not in str(info.value)
    assert peak < 64 * 2**20


async def test_header_records_for_messages_not_asked_for_are_not_believed(
    server: FakeImapServer,
) -> None:
    def header(uid: int) -> bytes:
        return (
            f'* {uid} FETCH (UID {uid} FLAGS () INTERNALDATE "01-Feb-2026 10:00:00 +0000" '
            'RFC822.SIZE 5 ENVELOPE (NIL "hi" NIL NIL NIL NIL NIL NIL NIL "<a@b>") '
            'BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 1 1) '
            "BODY[HEADER.FIELDS (REFERENCES)] {2}\r\n\r\n)\r\n"
        ).encode()

    async def fetch(session: FakeSession, tag: bytes, args: bytes) -> None:
        await session.send(header(5) + header(99) + header(6) + tag + b" OK done\r\n")

    server.handle_uid = fetch  # type: ignore[attr-defined]
    async with await ImapClient.connect(settings(server)) as client:
        records = [r async for group in client.fetch_header_groups("5:7") for r in group]
    assert [r.uid for r in records] == [5, 6]
