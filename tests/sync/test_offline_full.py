"""offline = "full": bodies are downloaded as bytes, then indexed for search in a second phase;
a word that only the body holds is found by search either way."""

from __future__ import annotations

from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.mail.query import Text
from tuimail.store import queries, search_queries
from tuimail.store.db import Store
from tuimail.sync.body_index import index_downloaded_bodies
from tuimail.sync.imap_sync import sync_imap_account

# Past the preview's 200 characters, so only the body's own indexing can find the word.
FILLER = "Nothing to see in this first paragraph, it only fills the preview. " * 6

PLAIN = (
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: plain\r\n"
    "Message-ID: <plain@example.org>\r\n\r\n" + FILLER + "\r\nThe code word is quokkaverse.\r\n"
).encode()
HTML = (
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: html\r\n"
    "Message-ID: <html@example.org>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><body><p>" + FILLER + "</p><p>Also <b>quokkaverse</b> here.</p></body></html>\r\n"
    "--b1\r\nContent-Type: application/pdf\r\n"
    "Content-Disposition: attachment; filename*=utf-8''%C3%9Cbersicht.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n"
).encode()


async def download(store: Store, dovecot: Dovecot, mail_user: MailUser) -> dict[str, int]:
    dovecot.deliver(mail_user, [PLAIN, HTML])
    await sync_imap_account(
        store, "x", account({**imap_table(dovecot, mail_user), "offline": "full"})
    )
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        assert await queries.uids_without_body(session, inbox.id) == {}
        return {r.subject: r.id for r in await queries.list_messages(session, inbox.id)}


async def found(store: Store, word: str) -> set[int]:
    async with store.session() as session:
        return set(await search_queries.search(session, Text("body", word)))


async def test_body_words_of_downloaded_mail_are_found_once_the_bodies_are_indexed(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    ids = await download(store, dovecot, mail_user)
    assert await index_downloaded_bodies(store) == 2
    assert await index_downloaded_bodies(store) == 0  # nothing waits any more
    assert await found(store, "quokkaverse") == {ids["plain"], ids["html"]}
    async with store.session() as session:
        rows = await queries.list_messages(
            session, (await queries.folder_by_name(session, "x", "INBOX")).id
        )
    assert {r.subject: r.has_attachments for r in rows} == {"plain": False, "html": True}


async def test_a_search_before_the_bodies_are_indexed_still_finds_their_words(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    ids = await download(store, dovecot, mail_user)
    assert await found(store, "quokkaverse") == {ids["plain"], ids["html"]}
    assert await index_downloaded_bodies(store) == 0  # the search indexed them


async def test_a_downloaded_body_is_indexed_once_whole_not_first_by_its_headers(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    ids = await download(store, dovecot, mail_user)
    async with store.session() as session:
        await search_queries.index_pending(session)  # what a sync does before the bodies
        connection = await session.connection()
        rows = await connection.exec_driver_sql("SELECT count(*) FROM messages_fts")
        assert rows.scalar_one() == 0  # the bodies index them, whole
    assert await index_downloaded_bodies(store) == 2
    assert await found(store, "quokkaverse") == {ids["plain"], ids["html"]}
    async with store.session() as session:
        by_subject = await search_queries.search(session, Text("subject", "plain"))
    assert by_subject == [ids["plain"]]  # the subject is in the same row
