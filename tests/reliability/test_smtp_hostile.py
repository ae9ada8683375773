"""The outbox sends through a scripted SMTP server that breaks down partway through a session:
the message stays queued with one clear line, memory stays bounded, and the next flush through
a good server (aiosmtpd) delivers it exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from tests.harness.smtp import SmtpTestServer
from tests.protocols.test_smtp import scripted_server
from tests.reliability.proxies import stream_until_refused
from tests.sync.outbox_child import ACCOUNT, account_config
from tuimail.store.db import Store
from tuimail.sync.outbox import Outbox

pytestmark = pytest.mark.timeout(30)

RAW = (
    b"From: sender@example.org\r\nTo: ann@example.com\r\nSubject: hello\r\n"
    b"Message-ID: <hostile-smtp@example.org>\r\n\r\nHello Ann.\r\n"
)
FAR_FUTURE = 4_000_000_000  # every backoff has passed

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Misdeed = Callable[[Reader, Writer], Awaitable[None]]


def server_that_breaks_at(verb: bytes, misdeed: Misdeed) -> Callable[..., Awaitable[None]]:
    """A script that answers like a small submission server until the client sends ``verb``."""

    async def script(reader: Reader, writer: Writer, heard: list[bytes]) -> None:
        writer.write(b"220 evil.test ESMTP\r\n")
        while line := await reader.readline():
            heard.append(line)
            command = line.split(b" ", 1)[0].strip().upper()
            if command == verb:
                await misdeed(reader, writer)
                return
            if command == b"EHLO":
                writer.write(b"250-evil.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            elif command == b"AUTH":
                writer.write(b"235 2.7.0 accepted\r\n")
            elif command == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                writer.write(b"250 2.0.0 queued\r\n")
            elif command == b"QUIT":
                writer.write(b"221 bye\r\n")
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()

    return script


async def take_data_then_stall(reader: Reader, writer: Writer) -> None:
    writer.write(b"354 go ahead\r\n")
    while (await reader.readline()) not in (b".\r\n", b""):
        pass
    await reader.read()  # the whole message arrived; never a word about it


async def close_mid_data(reader: Reader, writer: Writer) -> None:
    writer.write(b"354 go ahead\r\n")
    await writer.drain()
    await reader.readline()
    writer.transport.abort()


async def endless_line(reader: Reader, writer: Writer) -> None:
    with contextlib.suppress(ConnectionError):
        await stream_until_refused(writer, b"250-", b"a" * 65536)


async def garbage(reader: Reader, writer: Writer) -> None:
    while True:  # to this command and to every one after it (the client's RSET, say)
        writer.write(b"\x16\x03\x01\x00\xa5\x01\x00 HTTP/1.1 400 Bad Request\r\n")
        await writer.drain()
        if not await reader.readline():
            return


@dataclass(frozen=True)
class Case:
    verb: bytes
    misdeed: Misdeed
    error: str
    timeout: float = 5.0


CASES = {
    "stall-after-data": Case(b"DATA", take_data_then_stall, "did not answer within 0.5 s", 0.5),
    "close-mid-data": Case(b"DATA", close_mid_data, "cannot reach SMTP server"),
    "endless-line": Case(b"MAIL", endless_line, "sent an invalid reply: Response too long"),
    "garbage-at-ehlo": Case(b"EHLO", garbage, "sent an invalid reply: Malformed SMTP response"),
    "garbage-at-data": Case(b"DATA", garbage, "sent an invalid reply: Malformed SMTP response"),
}


def outbox(
    store: Store, port: int, server: SmtpTestServer, timeout: float, security: str = "none"
) -> Outbox:
    """An outbox on ``store`` sending as the test server's user to 127.0.0.1:``port``."""
    config = account_config(
        "127.0.0.1", port, server.ca_file, server.username, server.password, security
    )
    if config.smtp is not None:
        config = config.model_copy(
            update={"smtp": config.smtp.model_copy(update={"timeout": timeout})}
        )

    async def keep(account: str, raw: bytes) -> None:
        pass

    return Outbox(store, {ACCOUNT: config}, sent_sink=keep, local_hostname="client.test")


@pytest.mark.parametrize("name", list(CASES))
async def test_a_server_breaking_down_mid_session_keeps_the_message_queued_to_send_once(
    store: Store, smtp_server: SmtpTestServer, name: str
) -> None:
    case = CASES[name]
    async with scripted_server(server_that_breaks_at(case.verb, case.misdeed)) as (port, heard):
        hostile = outbox(store, port, smtp_server, case.timeout)
        await hostile.submit(ACCOUNT, RAW, "sender@example.org", ["ann@example.com"])
        tracemalloc.start()
        try:
            report = await hostile.flush()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert any(line.upper().startswith(case.verb) for line in heard), "never reached the misdeed"
    (delivery,) = report.deliveries
    assert delivery.outcome == "retry" and case.error in delivery.error
    assert "\n" not in delivery.error
    assert peak < 4 * 2**20
    (item,) = await hostile.items()
    assert item.status == "queued" and item.last_error == delivery.error

    good = outbox(store, smtp_server.port, smtp_server, 5.0, "starttls")
    sent = await good.flush(now=FAR_FUTURE)
    assert [d.outcome for d in sent.deliveries] == ["sent"]
    (received,) = await smtp_server.wait_for(1)
    assert received.raw == RAW
    assert await good.items() == []
    assert (await good.flush(now=FAR_FUTURE)).deliveries == ()
    assert len(smtp_server.messages) == 1
