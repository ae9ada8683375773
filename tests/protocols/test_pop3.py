"""Tests for tuimail.protocols.pop3 against a scripted fake server on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trustme

from tests.protocols.pop3_fake import GREETING_TIMESTAMP, FakePop3Server, Session
from tuimail.errors import AuthError, ConnectionLost, ProtocolError, TLSError
from tuimail.protocols.pop3 import Pop3Client, Pop3Settings

MESSAGES = [
    b"From: a@example.com\r\nSubject: one\r\n\r\nHello\r\n",
    b"From: b@example.com\r\nSubject: two\r\n\r\nSecond\r\nmessage\r\n",
    b"From: c@example.com\r\nSubject: three\r\n\r\nThird\r\n",
]
CREDENTIAL_VERBS = {b"USER", b"PASS", b"APOP", b"AUTH"}


def settings(server: FakePop3Server, **overrides: Any) -> Pop3Settings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "security": "none"}
    values["timeout"] = 5.0
    values.update(overrides)
    return Pop3Settings(**values)


@pytest.fixture
async def server() -> AsyncIterator[FakePop3Server]:
    async with FakePop3Server(MESSAGES) as fake:
        yield fake


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
def pop3_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="tuimail.protocols.pop3")
    yield caplog


# Ordinary sessions


async def test_session_lists_retrieves_and_reports_mailbox(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        assert "fake POP3 server ready" in client.greeting
        assert client.capabilities["SASL"] == ("PLAIN",)
        await client.login("alice", "secret")
        assert await client.stat() == (3, sum(map(len, MESSAGES)))
        assert await client.list() == {n: len(m) for n, m in enumerate(MESSAGES, 1)}
        assert await client.uidl() == {1: "uid-1", 2: "uid-2", 3: "uid-3"}
        assert await client.retr(2) == MESSAGES[1]
        await client.noop()


async def test_retr_returns_exact_bytes_after_dot_unstuffing() -> None:
    message = (
        b".starts with a dot\r\n"
        b"Subject: dots\r\n\r\n"
        b".\r\n"
        b"..\r\n"
        b"...three\r\n"
        b" .not at line start\r\n"
        b"line with a bare \r inside\r\n"
        b".\r\n"
    )
    async with (
        FakePop3Server([message]) as fake,
        await Pop3Client.connect(settings(fake)) as client,
    ):
        await client.login("alice", "secret")
        assert await client.retr(1) == message


async def test_retr_tolerates_bare_lf_and_keeps_line_endings_as_sent() -> None:
    message = b"Subject: lf only\n\n.dot line\nbody\n"
    async with (
        FakePop3Server([message], line_ending=b"\n") as fake,
        await Pop3Client.connect(settings(fake)) as client,
    ):
        await client.login("alice", "secret", mechanism="user")
        assert await client.list() == {1: len(message)}
        assert await client.retr(1) == message


async def test_top_returns_header_and_first_body_lines(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        assert await client.top(2, 1) == b"From: b@example.com\r\nSubject: two\r\n\r\nSecond\r\n"


async def test_quit_commits_deletions(server: FakePop3Server) -> None:
    client = await Pop3Client.connect(settings(server))
    await client.login("alice", "secret")
    await client.dele(1)
    await client.dele_many([2, 3])
    await client.quit()
    assert server.committed_deletions == {1, 2, 3}


async def test_close_and_async_with_do_not_commit_deletions(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        await client.dele_many([1, 2])
    await server.sessions_finished()
    assert b"QUIT" not in server.received_verbs()
    assert server.committed_deletions == set()


async def test_rset_unmarks_deletions(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        await client.dele(1)
        assert (await client.stat())[0] == 2
        await client.rset()
        assert (await client.stat())[0] == 3


async def test_uidl_returns_none_when_server_does_not_support_it() -> None:
    class NoUidl(FakePop3Server):
        async def handle_uidl(self, session: Session, args: list[bytes]) -> str | None:
            await session.send_line(b"-ERR unknown command")
            return None

    async with NoUidl(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        await client.login("alice", "secret")
        assert await client.uidl() is None
        assert await client.retr(1) == MESSAGES[0]


async def test_server_without_capa_gets_user_pass_and_empty_capabilities() -> None:
    class NoCapa(FakePop3Server):
        capabilities = None

    async with NoCapa(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        assert client.capabilities == {}
        await client.login("alice", "secret")
        assert [v for v in fake.received_verbs() if v in CREDENTIAL_VERBS] == [b"USER", b"PASS"]


# Authentication


async def test_auto_login_uses_sasl_plain_with_correct_blob(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
    expected = b"AUTH PLAIN " + base64.b64encode(b"\0alice\0secret")
    assert [line for line in server.received if line.startswith(b"AUTH")] == [expected]


async def test_sasl_plain_answers_an_empty_challenge_with_the_blob() -> None:
    class ChallengeFirst(FakePop3Server):
        async def handle_auth(self, session: Session, args: list[bytes]) -> str | None:
            return await super().handle_auth(session, args[:1])  # ignore the initial response

    async with (
        ChallengeFirst(MESSAGES) as fake,
        await Pop3Client.connect(settings(fake)) as client,
    ):
        await client.login("alice", "secret", mechanism="plain")
        assert await client.retr(1) == MESSAGES[0]


async def test_auto_login_uses_user_pass_when_sasl_plain_not_offered() -> None:
    class UserOnly(FakePop3Server):
        capabilities = (b"USER", b"UIDL")

    async with UserOnly(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        await client.login("alice", "secret")
        assert fake.received[-3:-1] == [b"USER alice", b"PASS secret"]


async def test_apop_sends_md5_of_greeting_timestamp_and_password(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret", mechanism="apop")
        assert await client.retr(3) == MESSAGES[2]
    digest = hashlib.md5(b"<1896.697170952@dbc.mtview.ca.us>secret").hexdigest()
    assert GREETING_TIMESTAMP == b"<1896.697170952@dbc.mtview.ca.us>"
    assert f"APOP alice {digest}".encode() in server.received


async def test_apop_without_greeting_timestamp_raises_and_sends_nothing() -> None:
    class NoTimestamp(FakePop3Server):
        greeting = b"+OK ready"

    async with NoTimestamp(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        with pytest.raises(AuthError, match="does not offer APOP"):
            await client.login("alice", "secret", mechanism="apop")
    assert not CREDENTIAL_VERBS & set(fake.received_verbs())


async def test_wrong_password_raises_auth_error_with_sanitised_server_text() -> None:
    class Hostile(FakePop3Server):
        async def _login_reply(self, session: Session, ok: bool) -> None:
            await session.send_line(
                b"-ERR [AUTH] Authentication\x1b[2J\x1b]0;pwned\x07 failed.\xe2\x80\xae"
            )

    async with Hostile(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        with pytest.raises(AuthError) as caught:
            await client.login("alice", "wrong")
    assert str(caught.value) == (
        f"POP3 server 127.0.0.1:{fake.port} refused the login: [AUTH] Authentication failed."
    )


async def test_mailbox_in_use_is_a_protocol_error_not_an_auth_error() -> None:
    class Locked(FakePop3Server):
        async def _login_reply(self, session: Session, ok: bool) -> None:
            await session.send_line(b"-ERR [IN-USE] Mailbox is locked by another session")

    async with Locked(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        with pytest.raises(
            ProtocolError, match=r"could not open the mailbox: \[IN-USE\]"
        ) as caught:
            await client.login("alice", "secret")
    assert not isinstance(caught.value, AuthError)


async def test_credentials_with_line_breaks_are_refused_before_sending(
    server: FakePop3Server,
) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        with pytest.raises(AuthError, match="line break"):
            await client.login("alice", "secret\r\nDELE 1", mechanism="user")
    assert not CREDENTIAL_VERBS & set(server.received_verbs())


@pytest.mark.parametrize("mechanism", ["user", "plain", "apop"])
async def test_password_never_appears_in_the_log(
    server: FakePop3Server, pop3_log: pytest.LogCaptureFixture, mechanism: Any
) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret", mechanism=mechanism)
    blob = base64.b64encode(b"\0alice\0secret").decode()
    digest = hashlib.md5(GREETING_TIMESTAMP + b"secret").hexdigest()
    logged = [record.getMessage() for record in pop3_log.records]
    assert any("***" in line for line in logged)
    for secret in ("secret", blob, digest):
        assert not any(secret in line for line in logged)


# Broken and hostile servers


async def test_disconnect_in_the_middle_of_retr_raises_connection_lost() -> None:
    class HangsUp(FakePop3Server):
        async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
            await session.send(b"+OK 500 octets\r\nSubject: half a message\r\n")
            return "quit"

    async with HangsUp(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        await client.login("alice", "secret")
        with pytest.raises(ConnectionLost, match="closed the connection"):
            await client.retr(1)


async def test_err_reply_to_retr_raises_and_session_stays_usable(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        with pytest.raises(ProtocolError, match="refused RETR 9: no such message"):
            await client.retr(9)
        assert await client.retr(1) == MESSAGES[0]


async def test_overlong_status_line_raises_with_bounded_memory() -> None:
    class Babbler(FakePop3Server):
        async def handle_noop(self, session: Session, args: list[bytes]) -> str | None:
            chunk = b"x" * 16384
            await session.send(b"+OK ")
            for _ in range(1024):  # 16 MiB unless the client hangs up first
                await session.send(chunk)
            return None

    async with Babbler(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ProtocolError, match="line longer than 64 KiB"):
                await client.noop()
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 2 * 1024 * 1024
        with pytest.raises(ConnectionLost):
            await client.noop()


async def test_message_larger_than_limit_raises_and_closes_connection() -> None:
    class Endless(FakePop3Server):
        async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
            await session.send(b"+OK here it comes\r\n")
            line = b"y" * 998 + b"\r\n"
            for _ in range(16 * 1024):  # 16 MiB unless the client hangs up first
                await session.send(line)
            return None

    limit = 1024 * 1024
    async with (
        Endless(MESSAGES) as fake,
        await Pop3Client.connect(settings(fake, max_message_size=limit)) as client,
    ):
        await client.login("alice", "secret")
        await client.list()
        with pytest.raises(ProtocolError, match=r"more than 1 MiB .*connection closed"):
            await client.retr(1)
        with pytest.raises(ConnectionLost):
            await client.noop()


async def test_list_size_over_limit_refuses_retr_without_sending_it() -> None:
    class Huge(FakePop3Server):
        def announced_size(self, msgno: int) -> int:
            return 200 * 1024 * 1024 if msgno == 2 else super().announced_size(msgno)

    async with Huge(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        await client.login("alice", "secret")
        assert (await client.list())[2] == 200 * 1024 * 1024
        with pytest.raises(ProtocolError, match=r"message 2 .* is 200 MiB, over the 100 MiB"):
            await client.retr(2)
        assert b"RETR 2" not in fake.received
        assert await client.retr(1) == MESSAGES[0]  # nothing was sent, so the session is fine


async def test_octet_count_over_limit_refuses_body_unread() -> None:
    class Announces(FakePop3Server):
        async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
            await session.send_line(b"+OK 209715200 octets")
            await session.wait_for_client_to_leave()
            return "quit"

    async with Announces(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        await client.login("alice", "secret")
        with pytest.raises(ProtocolError, match=r"is 200 MiB.*connection closed"):
            await client.retr(1)


async def test_garbage_after_terminating_dot_is_not_taken_as_next_reply() -> None:
    class Trailing(FakePop3Server):
        async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
            await session.send(b"+OK\r\nSubject: x\r\n\r\nbody\r\n.\r\n+OK injected\r\n")
            return None

    async with Trailing(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        await client.login("alice", "secret")
        assert await client.retr(1) == b"Subject: x\r\n\r\nbody\r\n"
        with pytest.raises(ProtocolError, match="sent data nobody asked for"):
            await client.dele(1)
    assert b"DELE 1" not in fake.received


async def test_reply_that_is_neither_ok_nor_err_raises_protocol_error() -> None:
    class Garbled(FakePop3Server):
        async def handle_noop(self, session: Session, args: list[bytes]) -> str | None:
            await session.send_line(b"HTTP/1.1 400 Bad Request")
            return None

    async with Garbled(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        with pytest.raises(ProtocolError, match="invalid reply to NOOP"):
            await client.noop()


async def test_stalled_server_raises_connection_lost_after_timeout() -> None:
    class Stalls(FakePop3Server):
        async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
            await session.send(b"+OK\r\nSubject: and then nothing\r\n")
            await session.wait_for_client_to_leave()
            return "quit"

    async with (
        Stalls(MESSAGES) as fake,
        await Pop3Client.connect(settings(fake, timeout=0.2)) as client,
    ):
        await client.login("alice", "secret")
        with pytest.raises(ConnectionLost, match=r"did not answer within 0\.2 s"):
            await client.retr(1)


async def test_connection_refused_raises_connection_lost() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Pop3Settings(host="127.0.0.1", port=port, security="none", timeout=5)
    with pytest.raises(ConnectionLost, match=f"could not connect to POP3 server 127.0.0.1:{port}"):
        await Pop3Client.connect(closed)


# TLS


async def test_implicit_tls_verifies_certificate_and_works(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    async with FakePop3Server(MESSAGES, tls=server_tls) as fake:
        tls = settings(fake, security="tls", ssl_context=client_tls)
        async with await Pop3Client.connect(tls) as client:
            await client.login("alice", "secret")
            assert await client.retr(1) == MESSAGES[0]


async def test_implicit_tls_with_untrusted_certificate_raises_tls_error(
    server_tls: ssl.SSLContext,
) -> None:
    async with FakePop3Server(MESSAGES, tls=server_tls) as fake:
        with pytest.raises(TLSError, match="untrusted TLS certificate"):
            await Pop3Client.connect(settings(fake, security="tls"))


async def test_starttls_upgrades_then_reissues_capa(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    class MoreAfterTls(FakePop3Server):
        async def handle_capa(self, session: Session, args: list[bytes]) -> str | None:
            tls = session.writer.get_extra_info("ssl_object") is not None
            self.capabilities = (b"USER", b"SASL PLAIN", b"PIPELINING") if tls else (b"USER",)
            return await super().handle_capa(session, args)

    async with MoreAfterTls(MESSAGES, starttls=server_tls) as fake:
        tls = settings(fake, security="starttls", ssl_context=client_tls)
        async with await Pop3Client.connect(tls) as client:
            assert "PIPELINING" in client.capabilities
            await client.login("alice", "secret")
            assert await client.retr(1) == MESSAGES[0]
    assert fake.received_verbs()[:4] == [b"CAPA", b"STLS", b"CAPA", b"AUTH"]


async def test_starttls_refused_when_not_advertised_sends_no_credentials() -> None:
    async with FakePop3Server(MESSAGES) as fake:
        with pytest.raises(TLSError, match="does not offer STARTTLS"):
            await Pop3Client.connect(settings(fake, security="starttls"))
        await fake.sessions_finished()
    assert fake.received_verbs() == [b"CAPA"]


async def test_starttls_err_reply_raises_tls_error_and_sends_no_credentials(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    class Refuses(FakePop3Server):
        async def handle_stls(self, session: Session, args: list[bytes]) -> str | None:
            await session.send_line(b"-ERR not today")
            return None

    async with Refuses(MESSAGES, starttls=server_tls) as fake:
        tls = settings(fake, security="starttls", ssl_context=client_tls)
        with pytest.raises(TLSError, match="refused STARTTLS: not today"):
            await Pop3Client.connect(tls)
        await fake.sessions_finished()
    assert not CREDENTIAL_VERBS & set(fake.received_verbs())


async def test_starttls_with_untrusted_certificate_sends_no_credentials(
    server_tls: ssl.SSLContext,
) -> None:
    async with FakePop3Server(MESSAGES, starttls=server_tls) as fake:
        with pytest.raises(TLSError, match="untrusted TLS certificate"):
            await Pop3Client.connect(settings(fake, security="starttls"))
        await fake.sessions_finished()
    assert fake.received_verbs() == [b"CAPA", b"STLS"]


async def test_starttls_discards_response_injected_before_handshake(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext, pop3_log: pytest.LogCaptureFixture
) -> None:
    class Injects(FakePop3Server):
        async def handle_stls(self, session: Session, args: list[bytes]) -> str | None:
            assert self.starttls is not None
            await session.send(b"+OK Begin TLS\r\n+OK injected\r\n")
            await session.writer.start_tls(self.starttls)
            return None

        async def handle_noop(self, session: Session, args: list[bytes]) -> str | None:
            await session.send_line(b"-ERR the genuine reply")
            return None

    async with Injects(MESSAGES, starttls=server_tls) as fake:
        tls = settings(fake, security="starttls", ssl_context=client_tls)
        async with await Pop3Client.connect(tls) as client:
            # Had "+OK injected" been read as the CAPA reply, "+OK" would be a capability.
            assert set(client.capabilities) == {"USER", "SASL", "UIDL", "TOP", "PIPELINING", "STLS"}
            with pytest.raises(ProtocolError, match="the genuine reply"):
                await client.noop()
    assert any("discarded" in record.getMessage() for record in pop3_log.records)


# Pipelining


async def test_retr_many_pipelines_and_returns_messages_in_order() -> None:
    class AnswersOnlyWhenAllArrived(FakePop3Server):
        """Replies to the first RETR only after reading all three: a lock-step client hangs."""

        async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
            for _ in range(2):
                await session.read_command()
            for msgno in (1, 2, 3):
                await super().handle_retr(session, [b"%d" % msgno])
            return None

    async with (
        AnswersOnlyWhenAllArrived(MESSAGES) as fake,
        await Pop3Client.connect(settings(fake)) as client,
    ):
        await client.login("alice", "secret")
        await client.list()
        got = [item async for item in client.retr_many([1, 2, 3], window=3)]
    assert got == list(enumerate(MESSAGES, 1))


async def test_retr_many_without_pipelining_sends_one_command_at_a_time() -> None:
    class NoPipelining(FakePop3Server):
        capabilities = (b"USER", b"SASL PLAIN", b"UIDL")

    async with NoPipelining(MESSAGES) as fake, await Pop3Client.connect(settings(fake)) as client:
        await client.login("alice", "secret")
        got = [item async for item in client.retr_many([3, 1, 2])]
        await client.dele_many([1, 2, 3])
        assert fake.pipelined_reads == 0
    assert got == [(3, MESSAGES[2]), (1, MESSAGES[0]), (2, MESSAGES[1])]


async def test_retr_many_err_yields_earlier_messages_then_raises(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        got = []
        with pytest.raises(ProtocolError, match="refused RETR 7"):
            async for item in client.retr_many([1, 7, 2, 3]):
                got.append(item)
        assert got == [(1, MESSAGES[0])]
        assert await client.retr(3) == MESSAGES[2]  # replies already asked for were drained


async def test_retr_many_abandoned_early_closes_connection(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        replies = client.retr_many([1, 2, 3])
        assert await anext(replies) == (1, MESSAGES[0])
        await replies.aclose()
        with pytest.raises(ConnectionLost):
            await client.noop()


async def test_command_during_retr_many_is_refused(server: FakePop3Server) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        with pytest.raises(RuntimeError, match="busy with RETR"):
            async for _msgno, _message in client.retr_many([1, 2]):
                await client.dele(1)
    assert b"DELE 1" not in server.received


async def test_dele_many_err_reports_first_refusal_and_session_stays_usable(
    server: FakePop3Server,
) -> None:
    async with await Pop3Client.connect(settings(server)) as client:
        await client.login("alice", "secret")
        with pytest.raises(ProtocolError, match="refused DELE 5"):
            await client.dele_many([1, 5, 2])
        await client.quit()
    # All three were in flight before the -ERR came back, so DELE 2 took effect too.
    assert server.committed_deletions == {1, 2}


async def test_retr_many_of_a_large_mailbox_keeps_order() -> None:
    messages = [b"Subject: %d\r\n\r\n" % n + b".line\r\n" * (n % 7) for n in range(1, 201)]
    async with (
        FakePop3Server(messages) as fake,
        await Pop3Client.connect(settings(fake)) as client,
    ):
        await client.login("alice", "secret")
        got = [item async for item in client.retr_many(range(1, 201), window=16)]
    assert got == list(enumerate(messages, 1))
    assert fake.pipelined_reads > 0


def test_settings_defaults() -> None:
    defaults = Pop3Settings(host="pop.example.com", port=995, security="tls")
    assert defaults.timeout == 60.0
    assert defaults.max_message_size == 100 * 1024 * 1024
    assert defaults.ssl_context is None
