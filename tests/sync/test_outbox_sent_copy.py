"""A Sent copy that could not be stored is kept and stored later, never sent twice."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import ssl
from collections.abc import AsyncIterator

import pytest

from tests.harness.accounts import config, imap_table
from tests.harness.dovecot import Dovecot, MailUser, free_port
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import smtp_table
from tuimail.store.db import Store
from tuimail.sync.sending import Sending

pytestmark = pytest.mark.timeout(60)


@contextlib.asynccontextmanager
async def forwarding(port: int, target: int) -> AsyncIterator[None]:
    """Listen on ``port`` and pass the bytes both ways to ``target``: the IMAP server is up."""
    tasks: set[asyncio.Task[None]] = set()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        for task in (pump(reader, up_writer), pump(up_reader, writer)):
            tasks.add(asyncio.ensure_future(task))

    server = await asyncio.start_server(on_client, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def sent_subjects(server: Dovecot, user: MailUser) -> list[str]:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    with imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=context) as imap:
        imap.login(user.name, user.password)
        _status, count = imap.select("Sent", readonly=True)
        if count == [b"0"]:
            return []
        _status, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return [bytes(part[1]).decode().strip() for part in data if isinstance(part, tuple)]


async def test_a_sent_copy_that_failed_stays_in_the_outbox_and_is_stored_once_at_the_next_flush(
    store: Store, plain_dovecot: Dovecot, plain_user: MailUser, smtp_server: SmtpTestServer
) -> None:
    imap_port = free_port()  # nothing listens yet: the IMAP server is down when the mail goes
    table = imap_table(plain_dovecot, plain_user, port=imap_port)
    table["smtp"] = smtp_table(smtp_server)
    sending = Sending(store, config(x=table))
    await sending.submit_new("x", ["bob@example.net"], [], [], "Minutes", "See you.\n")

    (first,) = (await sending.outbox.flush()).deliveries
    assert first.outcome == "sent" and len(smtp_server.messages) == 1
    assert "Sent copy was not saved" in first.follow_up_errors[0]
    (kept,) = await sending.outbox.items()
    assert kept.status == "sent" and kept.last_error.startswith("Sent copy pending: ")

    async with forwarding(imap_port, plain_dovecot.imaps_port):
        (second,) = (await sending.outbox.flush()).deliveries
        assert second.outcome == "sent" and second.follow_up_errors == ()
        assert await sending.outbox.items() == []
        assert (await sending.outbox.flush()).deliveries == ()

    assert sent_subjects(plain_dovecot, plain_user) == ["Subject: Minutes"]
    assert len(smtp_server.messages) == 1
