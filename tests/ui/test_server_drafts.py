"""``P`` lists the drafts in the server's Drafts folder too; postponing one replaces that copy."""

from __future__ import annotations

import imaplib
import ssl
import time
from email import message_from_bytes
from pathlib import Path

from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.conftest import synced_imap_app
from tests.ui.pilot import screen_text, settle
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.screens.draft_picker import DraftPicker

FOREIGN_DRAFT = (
    b"From: someone@example.org\r\nTo: alex@example.org\r\nSubject: Re: Lunch on Friday?\r\n"
    b"Date: Mon, 07 Dec 2026 09:00:00 +0000\r\nMessage-ID: <lunch-draft@elsewhere>\r\n"
    b"\r\nFriday works for me. Where\r\n"
)


def _imap(dovecot: Dovecot, user: MailUser) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    imap = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    imap.login(user.name, user.password)
    return imap


def server_drafts(dovecot: Dovecot, user: MailUser) -> list[bytes]:
    imap = _imap(dovecot, user)
    imap.select("Drafts", readonly=True)
    _status, data = imap.uid("SEARCH", "ALL")
    raws = []
    for uid in (data[0] or b"").split():
        _status, fetched = imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
        raws.append(bytes(fetched[0][1]))
    imap.logout()
    return raws


async def test_p_lists_a_draft_written_elsewhere_and_postponing_replaces_its_server_copy(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    imap = _imap(dovecot, mail_user)
    imap.append("Drafts", "(\\Draft \\Seen)", imaplib.Time2Internaldate(time.time()), FOREIGN_DRAFT)
    imap.logout()
    app = await synced_imap_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, DraftPicker)
        assert "Re: Lunch on Friday?" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert screen.draft.subject == "Re: Lunch on Friday?"
        assert "Friday works for me" in screen.draft.body
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not isinstance(app.screen, ComposeScreen)
    [copy] = server_drafts(dovecot, mail_user)  # the one written elsewhere was replaced
    parsed = message_from_bytes(copy)
    assert parsed["Subject"] == "Re: Lunch on Friday?"
    assert parsed["X-Tuimail-Draft"], "the copy is ours now: the next postpone finds it"
