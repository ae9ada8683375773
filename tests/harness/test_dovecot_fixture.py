"""The harness itself: a login to the private Dovecot over IMAPS and POP3S, verified by the CA."""

from __future__ import annotations

import imaplib
import poplib
import ssl

import pytest

from tests.harness.dovecot import Dovecot, MailUser


def test_imaps_login_verifies_the_test_ca(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [b"From: a@example.org\r\nSubject: one\r\n\r\nhi\r\n"])
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=tls_context) as imap:
        assert imap.login(mail_user.name, mail_user.password)[0] == "OK"
        status, data = imap.select("INBOX")
        assert status == "OK" and data == [b"1"]
        status, folders = imap.list()
        listed = b"\n".join(f for f in folders if isinstance(f, bytes))
        for role in (b"\\Sent", b"\\Drafts", b"\\Trash", b"\\Junk", b"\\Archive"):
            assert role in listed


def test_pop3s_login_verifies_the_test_ca(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [b"Subject: a\r\n\r\n1\r\n", b"Subject: b\r\n\r\n2\r\n"])
    pop = poplib.POP3_SSL(dovecot.host, dovecot.pop3s_port, context=tls_context)
    try:
        pop.user(mail_user.name)
        pop.pass_(mail_user.password)
        assert pop.stat()[0] == 2
    finally:
        pop.quit()


def test_an_untrusted_certificate_is_refused(dovecot: Dovecot) -> None:
    strict = ssl.create_default_context()  # the system store does not know the test CA
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=strict)


def test_wrong_password_is_refused(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    with (
        imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=tls_context) as imap,
        pytest.raises(imaplib.IMAP4.error),
    ):
        imap.login(mail_user.name, "wrong")
