"""Sending from the command line: the outbox, Sent copies and origin flags, against aiosmtpd."""

from __future__ import annotations

import asyncio
import email
from email import policy
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.harness.accounts import pop3_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tuimail.cli import main
from tuimail.store import queries
from tuimail.store.db import open_store


def smtp_table(server: SmtpTestServer, **overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "host": server.host,
        "port": server.tls_port,
        "security": "tls",
        "username": server.username,
        "password": server.password,
        "tls_ca_file": str(server.ca_file),
        "timeout": 10.0,
    }
    table.update(overrides)
    return table


def configure(
    tmp_path: Path, dovecot: Dovecot, user: MailUser, server: SmtpTestServer, **smtp: Any
) -> Path:
    table = pop3_table(dovecot, user)
    table["smtp"] = smtp_table(server, **smtp)
    table["display_name"] = "Zoë Tester"
    return write_config(tmp_path / "config.toml", home=table)


async def sent_folder_subjects(data_dir: Path) -> list[str]:
    store = await open_store(data_dir / "mail.sqlite3", readonly=True)
    try:
        async with store.session() as session:
            folder = await queries.folder_by_name(session, "home", "Sent")
            return [r.subject for r in await queries.list_messages(session, folder.id)]
    finally:
        await store.close()


def test_send_delivers_once_keeps_a_sent_copy_and_hides_bcc(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    config = configure(tmp_path, dovecot, mail_user, smtp_server)
    attachment = tmp_path / "notes.txt"
    attachment.write_text("attached text\n")
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "send",
            "--to",
            "bob@example.net",
            "--bcc",
            "secret@example.org",
            "--subject",
            "Grüße aus Köln",
            "--attach",
            str(attachment),
        ],
        input="Hallo Bob,\nbis bald.\n",
    )
    assert result.exit_code == 0, result.output
    message_id = result.stdout.strip().splitlines()[-1]
    assert message_id.startswith("<") and message_id.endswith("@example.org>")
    [received] = asyncio.run(smtp_server.wait_for(1))
    assert sorted(received.rcpt_tos) == ["bob@example.net", "secret@example.org"]
    msg = email.message_from_bytes(received.raw, policy=policy.default)
    assert msg["Subject"] == "Grüße aus Köln" and msg["Message-ID"] == message_id
    assert "Bcc" not in msg and b"secret@example.org" not in received.raw
    assert "Zoë Tester" in str(msg["From"])
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert names == ["notes.txt"]
    assert asyncio.run(sent_folder_subjects(data_dir)) == ["Grüße aus Köln"]
    # The outbox is empty again.
    listing = CliRunner().invoke(main, ["--config", str(config), "outbox"])
    assert listing.exit_code == 0 and listing.stdout == "outbox is empty\n"


def test_send_with_the_server_down_keeps_the_message_and_flush_sends_it_once(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    config = configure(tmp_path, dovecot, mail_user, smtp_server)
    smtp_server.stop()
    result = CliRunner().invoke(
        main,
        ["--config", str(config), "send", "--to", "bob@example.net", "--subject", "later"],
        input="body\n",
    )
    assert result.exit_code == 1
    assert "kept in the outbox" in result.output
    listing = CliRunner().invoke(main, ["--config", str(config), "outbox"])
    assert "queued" in listing.output and "bob@example.net" in listing.output
    smtp_server.start()
    flushed = CliRunner().invoke(main, ["--config", str(config), "outbox", "--flush"])
    assert flushed.exit_code == 0, flushed.output
    assert len(asyncio.run(smtp_server.wait_for(1))) == 1
    again = CliRunner().invoke(main, ["--config", str(config), "outbox", "--flush"])
    assert again.exit_code == 0 and len(smtp_server.messages) == 1


def test_a_permanent_refusal_fails_and_stays_in_the_outbox(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    config = configure(tmp_path, dovecot, mail_user, smtp_server)
    smtp_server.data_reply = "554 5.7.1 message rejected as spam"
    result = CliRunner().invoke(
        main,
        ["--config", str(config), "send", "--to", "bob@example.net", "--subject", "x"],
        input="body\n",
    )
    assert result.exit_code == 1
    assert "failed" in result.output and "rejected as spam" in result.output
    listing = CliRunner().invoke(main, ["--config", str(config), "outbox"])
    assert "failed" in listing.output


def test_send_file_uses_its_headers_and_strips_bcc(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    config = configure(tmp_path, dovecot, mail_user, smtp_server)
    eml = tmp_path / "m.eml"
    eml.write_bytes(
        f"From: {mail_user.name}@example.org\r\nTo: carol@example.com\r\n"
        "Bcc: hidden@example.com\r\nSubject: from a file\r\n\r\nprepared elsewhere\r\n".encode()
    )
    result = CliRunner().invoke(main, ["--config", str(config), "send", "--file", str(eml)])
    assert result.exit_code == 0, result.output
    [received] = asyncio.run(smtp_server.wait_for(1))
    assert sorted(received.rcpt_tos) == ["carol@example.com", "hidden@example.com"]
    assert b"hidden@example.com" not in received.raw and b"Date:" in received.raw


def test_imap_account_sent_copy_lands_in_dovecots_sent_and_the_original_is_answered(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    import imaplib
    import ssl

    from tests.harness.accounts import config, imap_table
    from tuimail.mail import compose
    from tuimail.sync.identities import identities
    from tuimail.sync.imap_sync import sync_imap_account
    from tuimail.sync.sending import Sending

    original = (
        b"From: Bob <bob@example.net>\r\nTo: " + mail_user.name.encode() + b"@example.org\r\n"
        b"Subject: question\r\nMessage-ID: <q1@example.net>\r\n\r\nDoes it work?\r\n"
    )
    dovecot.deliver(mail_user, [original])
    table = imap_table(dovecot, mail_user)
    table["smtp"] = smtp_table(smtp_server)
    loaded = config(work=table)

    async def scenario() -> None:
        store = await open_store(data_dir / "mail.sqlite3")
        try:
            await sync_imap_account(store, "work", loaded.account("work"))
            async with store.session() as session:
                inbox = await queries.folder_by_name(session, "work", "INBOX")
                [row] = await queries.list_messages(session, inbox.id)
            draft = compose.reply(original, identities(loaded.account("work")), mode="sender")
            sending = Sending(store, loaded)
            msg = compose.draft_to_message(draft)
            await sending.submit_message(
                "work", msg, draft.from_identity, origin_pk=row.id, origin_action="answered"
            )
            report = await sending.outbox.flush()
            assert len(report.sent) == 1 and not report.sent[0].follow_up_errors
            await sync_imap_account(store, "work", loaded.account("work"))  # replays \\Answered
        finally:
            await store.close()

    asyncio.run(scenario())
    [received] = asyncio.run(smtp_server.wait_for(1))
    assert b"In-Reply-To: <q1@example.net>" in received.raw
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as imap:
        imap.login(mail_user.name, mail_user.password)
        imap.select("Sent", readonly=True)
        _, sent = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        imap.select("INBOX", readonly=True)
        _, flags = imap.uid("FETCH", "1:*", "(FLAGS)")
    assert b"Re: question" in sent[0][1] and b"\\Seen" in sent[0][0]
    assert b"\\Answered" in flags[0]
