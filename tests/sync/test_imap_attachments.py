"""The paperclip over IMAP against the private Dovecot: the header sync's verdict from
BODYSTRUCTURE is the verdict the message's bytes get, and a fetched body corrects the row."""

from __future__ import annotations

import imaplib
import ssl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from tests.harness.dovecot import Dovecot, MailUser
from tests.sync.test_imap_sync import config
from tuimail.demo.mailbox import generate
from tuimail.mail.parse import envelope_from_bytes
from tuimail.mail.query import parse_query
from tuimail.protocols.imap_headers import FETCH_ITEMS, parse_header_fetch
from tuimail.store import queries, search_queries
from tuimail.store.db import Store
from tuimail.store.models import Message
from tuimail.sync import imap_sync
from tuimail.sync.body_index import index_downloaded_bodies
from tuimail.sync.imap_connect import connect
from tuimail.sync.imap_pool import ImapRemote
from tuimail.sync.imap_remote import fetch_body
from tuimail.sync.imap_sync import sync_imap_account

pytestmark = pytest.mark.timeout(120)

HEAD = (
    "From: Ann <ann@example.org>\r\nTo: you@example.org\r\nSubject: {subject}\r\n"
    "Message-ID: <{subject}@example.org>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\n"
)
# A PDF named only in its Content-Type: what many mailers write, and Dovecot passes on.
NAME_ONLY = (
    HEAD.format(subject="name-only") + 'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
    "Content-Type: text/plain\r\n\r\nThe report is attached.\r\n--B\r\n"
    'Content-Type: application/pdf; name="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
    "\r\nJVBERi0xLjQK\r\n--B--\r\n"
).encode()
PLAIN = (HEAD.format(subject="plain") + "Content-Type: text/plain\r\n\r\nNo files.\r\n").encode()


async def inbox_rows(store: Store) -> dict[str, bool]:
    """has_attachments of each INBOX row, by subject."""
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        return {
            r.subject: r.has_attachments for r in await queries.list_messages(session, inbox.id)
        }


async def test_a_file_named_only_in_its_content_type_gets_the_paperclip_after_a_sync(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [NAME_ONLY, PLAIN])
    await sync_imap_account(store, "x", config(dovecot, mail_user))
    assert await inbox_rows(store) == {"name-only": True, "plain": False}
    async with store.session() as session:
        found = await search_queries.search(session, parse_query("has:attachment"))
        rows = await queries.messages_by_ids(session, found)
    assert [r.subject for r in rows] == ["name-only"]


async def mark_every_row(store: Store, has_attachments: bool) -> None:
    """Rows as an older tuimail (or a server whose BODYSTRUCTURE lied) left them."""
    async with store.session() as session:
        await session.execute(update(Message).values(has_attachments=has_attachments))


async def test_opening_a_message_corrects_a_wrong_paperclip(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [NAME_ONLY, PLAIN])
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    await mark_every_row(store, False)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        ids = {r.subject: r.id for r in await queries.list_messages(session, inbox.id)}
    async with ImapRemote() as remote:
        await fetch_body(store, remote.connection("x", cfg), ids["name-only"])
        assert await inbox_rows(store) == {"name-only": True, "plain": False}
        await mark_every_row(store, True)
        await fetch_body(store, remote.connection("x", cfg), ids["plain"])
    assert (await inbox_rows(store))["plain"] is False


async def test_bodies_downloaded_for_offline_use_correct_a_wrong_paperclip(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [NAME_ONLY, PLAIN])
    cfg = config(dovecot, mail_user)
    await sync_imap_account(store, "x", cfg)
    await mark_every_row(store, True)
    async with store.session() as session:
        inbox = await queries.folder_state(
            session, (await queries.folder_by_name(session, "x", "INBOX")).id
        )
    client = await connect("x", cfg)
    try:
        assert await imap_sync.prefetch_bodies(store, client, inbox) == 2
    finally:
        await client.close()
    # The download stores bytes only; the paperclip comes with the body's indexing after it.
    assert await index_downloaded_bodies(store) == 2
    assert await inbox_rows(store) == {"name-only": True, "plain": False}


# Well-formed MIME of the shapes mailers write, to hold Dovecot's BODYSTRUCTURE against parse.py.
FILENAMES = st.sampled_from(
    [None, "report.pdf", "", " ", "=?utf-8?q?caf=C3=A9.txt?=", 'a \\"quoted\\" name.txt']
)


@st.composite
def leaf(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["text/plain", "text/html", "text/csv", "image/png", "application/pdf", "Image/JPEG"]
        )
    )
    disposition = draw(st.sampled_from([None, "inline", "attachment", "ATTACHMENT", "Inline"]))
    filename = draw(FILENAMES)
    where = draw(st.sampled_from(["type", "disposition", "both", "rfc2231"]))
    content_type = f"Content-Type: {kind}"
    if filename is not None and where in ("type", "both"):
        content_type += f'; name="{filename}"'
    head = content_type + "\r\n"
    if disposition is not None or where == "rfc2231":
        value = disposition or "inline"
        if filename is not None and where in ("disposition", "both"):
            value += f'; filename="{filename}"'
        elif filename and where == "rfc2231":
            value += "; filename*=utf-8''caf%C3%A9%20" + quote(filename)
        head += f"Content-Disposition: {value}\r\n"
    return head + "\r\nsome content\r\n"


def attached_message(child: str) -> str:
    return "Content-Type: message/rfc822\r\n\r\n" + HEAD.format(subject="inner") + child


def multipart(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    subtypes = st.sampled_from(["mixed", "alternative", "related"])

    def build(subtype: str, parts: list[str]) -> str:
        boundary = f"b{zlib.crc32(''.join(parts).encode())}"  # differs from any inner one
        body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts)
        return (
            f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'
            f"{body}--{boundary}--\r\n"
        )

    return st.builds(build, subtypes, st.lists(children, min_size=1, max_size=3))


MIME = st.recursive(
    leaf(),
    lambda children: st.one_of(multipart(children), children.map(attached_message)),
    max_leaves=6,
)


@contextmanager
def imap_session(dovecot: Dovecot, user: MailUser) -> Iterator[imaplib.IMAP4_SSL]:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    imap = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    imap.login(user.name, user.password)
    imap.select("INBOX")
    try:
        yield imap
    finally:
        imap.logout()


def header_verdict(imap: imaplib.IMAP4_SSL, raw: bytes) -> bool:
    """APPEND ``raw`` and read it back the way the header sync does: its has_attachments."""
    status, data = imap.append("INBOX", None, None, raw)
    assert status == "OK", data
    uid = data[0].split(b"APPENDUID ")[1].split()[1].rstrip(b"]").decode()
    status, fetched = imap.uid("FETCH", uid, f"({FETCH_ITEMS})")
    assert status == "OK"
    # imaplib drops "* " and "FETCH" and cuts literals out: put the response back together as
    # it came over the wire.
    response = b""
    for piece in fetched:
        if isinstance(piece, tuple):
            response += piece[0] + b"\r\n" + piece[1]
        elif piece is not None:
            response += piece
    number, _, rest = response.partition(b" ")
    response = b"* " + number + b" FETCH " + rest
    record = parse_header_fetch(response)
    assert record is not None, response
    return record.has_attachments


# The demo generator's messages, and trees of every shape above under one set of headers.
DEMO_MESSAGES = [message.raw for message in generate(40, seed=3)]
MESSAGES = st.one_of(
    st.sampled_from(DEMO_MESSAGES),
    MIME.map(lambda mime: (HEAD.format(subject="g") + mime).encode()),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(MESSAGES)
def test_dovecots_bodystructure_gives_the_verdict_the_bytes_give(
    dovecot: Dovecot, mail_user: MailUser, raw: bytes
) -> None:
    with imap_session(dovecot, mail_user) as imap:
        assert header_verdict(imap, raw) == envelope_from_bytes(raw).has_attachments, raw
