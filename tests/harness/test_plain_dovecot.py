"""The plain Dovecot variant: folders known only by name, no CONDSTORE, QRESYNC or ESEARCH."""

from __future__ import annotations

import imaplib
import ssl

from tests.harness.dovecot import Dovecot, MailUser
from tuimail.protocols.imap import ImapClient, ImapSettings

LEFT_OUT = {"CONDSTORE", "QRESYNC", "ESEARCH", "SPECIAL-USE"}


def _context(server: Dovecot) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


def test_plain_dovecot_lists_sent_and_trash_without_special_use(
    plain_dovecot: Dovecot, plain_user: MailUser
) -> None:
    with imaplib.IMAP4_SSL(
        plain_dovecot.host, plain_dovecot.imaps_port, ssl_context=_context(plain_dovecot)
    ) as imap:
        imap.login(plain_user.name, plain_user.password)
        status, folders = imap.list()
        listed = b"\n".join(f for f in folders if isinstance(f, bytes))
        names = {line.rsplit(b" ", 1)[-1] for line in listed.splitlines()}
        assert status == "OK"
        assert {b"Sent", b"Trash", b"Drafts", b"Junk", b"Archive"} <= names
        for role in (b"\\Sent", b"\\Drafts", b"\\Trash", b"\\Junk", b"\\Archive"):
            assert role not in listed
        capabilities = set(imap.capabilities)
        assert "IMAP4REV1" in capabilities and "MOVE" in capabilities
        assert not capabilities & LEFT_OUT


async def test_our_client_enables_no_qresync_on_the_plain_dovecot(
    plain_dovecot: Dovecot, plain_user: MailUser
) -> None:
    settings = ImapSettings(
        plain_dovecot.host, plain_dovecot.imaps_port, "tls", _context(plain_dovecot), timeout=20
    )
    async with await ImapClient.connect(settings) as client:
        await client.login(plain_user.name, plain_user.password)
        assert not client.capabilities & LEFT_OUT
        assert await client.enable("QRESYNC", "CONDSTORE") == frozenset()
        state = await client.select("INBOX")
        assert state.highestmodseq is None
        assert client.enabled == frozenset()
        folders = {folder.name: folder for folder in await client.list_folders()}
        assert folders["Sent"].role is None and folders["Trash"].role is None


def test_the_default_dovecot_still_has_special_use_and_qresync(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=_context(dovecot)) as imap:
        imap.login(mail_user.name, mail_user.password)
        _status, folders = imap.list()
        listed = b"\n".join(f for f in folders if isinstance(f, bytes))
        assert b"\\Sent" in listed
        _typ, data = imap.capability()
        assert {"QRESYNC", "CONDSTORE", "SPECIAL-USE", "ESEARCH"} <= set(data[0].decode().split())
