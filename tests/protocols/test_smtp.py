"""The SMTP client against a real aiosmtpd, and against scripted hostile servers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.harness.dovecot import free_port
from tests.harness.smtp import SmtpTestServer
from tuimail.errors import AuthError, TLSError
from tuimail.protocols.smtp import (
    PermanentSendError,
    SmtpSettings,
    TemporarySendError,
    send,
)

pytestmark = pytest.mark.timeout(20)

MESSAGE = (
    b"From: sender@example.org\r\nTo: ann@example.com\r\nSubject: hello\r\n"
    b"Message-ID: <1@example.org>\r\n\r\nHello Ann.\r\n.leading dot\r\n"
)


def settings(server: SmtpTestServer, security: str = "starttls", **kw: object) -> SmtpSettings:
    port = server.tls_port if security == "tls" else server.port
    return SmtpSettings(
        host=server.host,
        port=port,
        security=security,  # type: ignore[arg-type]
        ssl_context=server.client_context(),
        timeout=5,
        local_hostname="client.test",
        **kw,  # type: ignore[arg-type]
    )


async def send_as_user(server: SmtpTestServer, security: str = "starttls", **kw: object):
    recipients = kw.pop("recipients", ["ann@example.com"])
    return await send(
        settings(server, security),
        kw.pop("raw", MESSAGE),  # type: ignore[arg-type]
        "sender@example.org",
        recipients,  # type: ignore[arg-type]
        username=server.username,
        password=kw.pop("password", server.password),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


async def test_starttls_and_auth_plain_deliver_the_exact_bytes(smtp_server: SmtpTestServer):
    result = await send_as_user(smtp_server, "starttls")
    (received,) = await smtp_server.wait_for(1)
    assert received.raw == MESSAGE
    assert received.mail_from == "sender@example.org"
    assert received.rcpt_tos == ("ann@example.com",)
    assert result.accepted == ("ann@example.com",)
    assert dict(result.refused) == {}
    assert "queued as TEST1" in result.reply
    assert [(login.mechanism, login.success) for login in smtp_server.logins] == [("PLAIN", True)]


async def test_implicit_tls_delivers(smtp_server: SmtpTestServer):
    await send_as_user(smtp_server, "tls")
    (received,) = await smtp_server.wait_for(1)
    assert received.raw == MESSAGE


async def test_auth_login_is_used_when_plain_is_not_offered(smtp_server: SmtpTestServer):
    smtp_server.stop()
    smtp_server.excluded_mechanisms = ("PLAIN",)
    smtp_server.start()
    await send_as_user(smtp_server, "tls")
    await smtp_server.wait_for(1)
    assert [(login.mechanism, login.success) for login in smtp_server.logins] == [("LOGIN", True)]


async def test_xoauth2_logs_in_with_the_token_instead_of_a_password(smtp_server: SmtpTestServer):
    await send_as_user(smtp_server, "tls", password=None, oauth2_token=smtp_server.oauth2_token)
    await smtp_server.wait_for(1)
    assert [(login.mechanism, login.success) for login in smtp_server.logins] == [("XOAUTH2", True)]


async def test_a_refused_xoauth2_token_is_an_auth_error(smtp_server: SmtpTestServer):
    with pytest.raises(AuthError, match="535"):
        await send_as_user(smtp_server, "tls", password=None, oauth2_token="expired")
    assert smtp_server.messages == []


async def test_a_wrong_password_is_an_auth_error_and_nothing_is_sent(smtp_server: SmtpTestServer):
    with pytest.raises(AuthError, match="refused the login: 535"):
        await send_as_user(smtp_server, "starttls", password="wrong")
    assert smtp_server.messages == []


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_a_certificate_from_an_unknown_ca_is_refused_before_login(
    smtp_server: SmtpTestServer, security: str
):
    untrusting = SmtpSettings(
        host=smtp_server.host,
        port=smtp_server.tls_port if security == "tls" else smtp_server.port,
        security=security,  # type: ignore[arg-type]
        ssl_context=None,  # the system store, which does not know the test CA
        timeout=5,
        local_hostname="client.test",
    )
    with pytest.raises(TLSError, match=r"(?i)certificate"):
        await send(
            untrusting,
            MESSAGE,
            "sender@example.org",
            ["ann@example.com"],
            username=smtp_server.username,
            password=smtp_server.password,
        )
    assert smtp_server.logins == []


async def test_nothing_listening_is_a_temporary_error():
    down = SmtpSettings("127.0.0.1", free_port(), "tls", timeout=2, local_hostname="c.test")
    with pytest.raises(TemporarySendError, match="cannot reach"):
        await send(down, MESSAGE, "a@b.c", ["d@e.f"], username="u", password="p")


async def test_a_4xx_reply_to_data_is_temporary(smtp_server: SmtpTestServer):
    smtp_server.data_reply = "451 4.3.0 queue full, try later"
    with pytest.raises(TemporarySendError, match=r"451 4\.3\.0 queue full"):
        await send_as_user(smtp_server)


async def test_a_5xx_reply_is_permanent_and_its_text_is_cleaned(smtp_server: SmtpTestServer):
    smtp_server.data_reply = "554 5.7.1 \x1b[31mspam\x1b]0;pwned\x07 detected\x9b2J"
    with pytest.raises(PermanentSendError) as caught:
        await send_as_user(smtp_server)
    text = str(caught.value)
    assert "554 5.7.1 spam detected" in text
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text)


async def test_a_refused_sender_is_permanent(smtp_server: SmtpTestServer):
    smtp_server.mail_reply = "553 5.7.1 you may not send as this address"
    with pytest.raises(PermanentSendError, match="refused the sender: 553"):
        await send_as_user(smtp_server)


async def test_partial_refusal_reports_each_refused_recipient(smtp_server: SmtpTestServer):
    smtp_server.rcpt_replies = {
        "gone@example.com": "550 5.1.1 no such user",
        "busy@example.com": "450 4.2.1 mailbox busy",
    }
    result = await send_as_user(
        smtp_server, recipients=["ann@example.com", "gone@example.com", "busy@example.com"]
    )
    (received,) = await smtp_server.wait_for(1)
    assert received.rcpt_tos == ("ann@example.com",)
    assert result.accepted == ("ann@example.com",)
    assert dict(result.refused) == {
        "gone@example.com": "550 5.1.1 no such user",
        "busy@example.com": "450 4.2.1 mailbox busy",
    }
    assert result.temporarily_refused == ("busy@example.com",)


async def test_every_recipient_refused_for_good_is_permanent(smtp_server: SmtpTestServer):
    smtp_server.rcpt_replies = {"gone@example.com": "550 5.1.1 no such user"}
    with pytest.raises(PermanentSendError, match=r"gone@example.com \(550 5.1.1 no such user\)"):
        await send_as_user(smtp_server, recipients=["gone@example.com"])


async def test_every_recipient_refused_with_one_4xx_is_temporary(smtp_server: SmtpTestServer):
    smtp_server.rcpt_replies = {
        "gone@example.com": "550 5.1.1 no such user",
        "busy@example.com": "450 4.2.1 mailbox busy",
    }
    with pytest.raises(TemporarySendError, match="for now"):
        await send_as_user(smtp_server, recipients=["gone@example.com", "busy@example.com"])


async def test_an_8bit_message_is_sent_with_body_8bitmime(smtp_server: SmtpTestServer):
    raw = MESSAGE.replace(b"Hello Ann.", "Grüße, Ann.".encode())
    await send_as_user(smtp_server, raw=raw)
    (received,) = await smtp_server.wait_for(1)
    assert received.raw == raw
    assert "BODY=8BITMIME" in received.mail_options


async def test_credentials_are_never_logged(
    smtp_server: SmtpTestServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    await send_as_user(smtp_server, "starttls")
    await send_as_user(smtp_server, "tls", password=None, oauth2_token=smtp_server.oauth2_token)
    with pytest.raises(AuthError):
        await send_as_user(smtp_server, "tls", password="wrong-" + smtp_server.password)
    smtp_server.stop()
    smtp_server.excluded_mechanisms = ("PLAIN",)
    smtp_server.start()
    await send_as_user(smtp_server, "tls")
    secrets = [smtp_server.password, smtp_server.oauth2_token]
    forms = [s for secret in secrets for s in (secret, _b64(secret))]
    forms.append(_b64(f"\0{smtp_server.username}\0{smtp_server.password}"))
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # aiosmtpd's own
    assert any(r.name == "tuimail.protocols.smtp" for r in ours)
    for record in ours:
        logged = record.getMessage() + (record.exc_text or "")
        for form in forms:
            assert form not in logged, record.name


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Scripted servers for what aiosmtpd will not do: they record every line the client sends.

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list[bytes]], Awaitable[None]]


@contextlib.asynccontextmanager
async def scripted_server(script: Script) -> AsyncIterator[tuple[int, list[bytes]]]:
    heard: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await script(reader, writer, heard)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, heard
    finally:
        server.close()
        await server.wait_closed()


async def _greet_and_ehlo(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heard: list[bytes], ehlo: bytes
) -> None:
    writer.write(b"220 evil.test ESMTP\r\n")
    heard.append(await reader.readline())
    writer.write(ehlo)
    await writer.drain()


async def _answer_everything(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, heard: list[bytes]
) -> None:
    while line := await reader.readline():
        heard.append(line)
        writer.write(b"334 \r\n" if line.upper().startswith(b"AUTH") else b"250 ok\r\n")
        await writer.drain()


async def _starttls_refused_attempt(port: int) -> None:
    hostile = SmtpSettings("127.0.0.1", port, "starttls", timeout=3, local_hostname="c.test")
    await send(hostile, MESSAGE, "a@b.c", ["d@e.f"], username="user", password="hunter2")


async def test_starttls_not_offered_sends_no_credentials():
    async def script(reader, writer, heard):
        await _greet_and_ehlo(
            reader, writer, heard, b"250-evil.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
        )
        await _answer_everything(reader, writer, heard)

    async with scripted_server(script) as (port, heard):
        with pytest.raises(TLSError, match="does not offer STARTTLS"):
            await _starttls_refused_attempt(port)
    assert not any(b"AUTH" in line.upper() or b"hunter2" in line for line in heard)
    assert not any(_b64("hunter2").encode() in line for line in heard)


async def test_starttls_refused_by_the_server_sends_no_credentials():
    async def script(reader, writer, heard):
        await _greet_and_ehlo(
            reader, writer, heard, b"250-evil.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
        )
        heard.append(await reader.readline())
        writer.write(b"454 4.7.0 TLS not available\r\n")
        await writer.drain()
        await _answer_everything(reader, writer, heard)

    async with scripted_server(script) as (port, heard):
        with pytest.raises(TLSError, match="refused STARTTLS"):
            await _starttls_refused_attempt(port)
    assert heard[1].upper().startswith(b"STARTTLS")
    assert not any(b"AUTH" in line.upper() for line in heard)


async def test_a_failed_starttls_handshake_sends_no_credentials():
    async def script(reader, writer, heard):
        await _greet_and_ehlo(
            reader, writer, heard, b"250-evil.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"
        )
        heard.append(await reader.readline())
        writer.write(b"220 go ahead\r\n")
        await writer.drain()
        await reader.read(1)  # the ClientHello starts; answer it with plain text
        writer.write(b"250 this is not TLS\r\n" * 10)
        await writer.drain()
        await _answer_everything(reader, writer, heard)

    async with scripted_server(script) as (port, heard):
        with pytest.raises(TLSError):
            await _starttls_refused_attempt(port)
    assert not any(b"AUTH" in line.upper() for line in heard)


async def test_a_421_greeting_is_temporary():
    async def script(reader, writer, heard):
        writer.write(b"421 4.3.2 too many connections\r\n")
        await writer.drain()

    async with scripted_server(script) as (port, _heard):
        plain = SmtpSettings("127.0.0.1", port, "none", timeout=3, local_hostname="c.test")
        with pytest.raises(TemporarySendError, match=r"421 4\.3\.2"):
            await send(plain, MESSAGE, "a@b.c", ["d@e.f"], username=None, password=None)


async def test_a_silent_server_times_out_as_a_temporary_error():
    async def script(reader, writer, heard):
        await reader.read()  # never greet

    async with scripted_server(script) as (port, _heard):
        silent = SmtpSettings("127.0.0.1", port, "none", timeout=0.3, local_hostname="c.test")
        with pytest.raises(TemporarySendError, match="did not answer"):
            await send(silent, MESSAGE, "a@b.c", ["d@e.f"], username=None, password=None)
