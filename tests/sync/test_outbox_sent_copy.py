"""A Sent copy that could not be stored is kept and stored later, never sent twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.harness.accounts import config, imap_table, write_config
from tests.harness.dovecot import Dovecot, MailUser, free_port
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_folder_roles import subjects_on_server
from tests.sync.test_sending import smtp_table
from tuimail.cli import main
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

    assert subjects_on_server(plain_dovecot, plain_user, "Sent") == ["Minutes"]
    assert len(smtp_server.messages) == 1


def test_tuimail_outbox_lists_a_sent_message_whose_copy_is_pending(
    tmp_path: Path,
    data_dir: Path,
    plain_dovecot: Dovecot,
    plain_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    table = imap_table(plain_dovecot, plain_user, port=free_port())  # the IMAP server is down
    table["smtp"] = smtp_table(smtp_server)
    config_file = write_config(tmp_path / "config.toml", home=table)
    sent = CliRunner().invoke(
        main,
        ["--config", str(config_file), "send", "--to", "bob@example.net", "--subject", "Minutes"],
        input="See you.\n",
    )
    assert "its Sent copy was not saved" in sent.output
    listing = CliRunner().invoke(main, ["--config", str(config_file), "outbox"])
    (line,) = listing.stdout.splitlines()
    assert " sent " in line and "bob@example.net: Sent copy pending: " in line, line
    assert len(smtp_server.messages) == 1
