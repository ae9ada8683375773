"""offline = "full": bodies are downloaded as bytes, then indexed for search in a second phase;
a word that only the body holds is found by search either way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.demo.mailbox import generate
from tuimail.mail.query import Text
from tuimail.store import body_index_queries, queries, search_queries
from tuimail.store.db import Store
from tuimail.sync import imap_sync
from tuimail.sync.body_index import index_downloaded_bodies
from tuimail.sync.imap_pool import ImapRemote
from tuimail.sync.imap_remote import fetch_body
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


async def test_a_message_opened_during_the_download_is_fetched_without_waiting_for_it(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = list(generate(120, seed=5, malformed_every=0))
    dovecot.deliver(mail_user, [m.raw for m in messages])
    cfg = account(imap_table(dovecot, mail_user))
    await sync_imap_account(store, "x", cfg)  # headers only
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        oldest = (await queries.list_messages(session, inbox.id))[-1]
    # The download stalls on its first commit, as a slow disk would, until the open is done.
    first_commit, opened = asyncio.Event(), asyncio.Event()
    store_bodies = body_index_queries.store_bodies

    async def held(session: Any, bodies: Any) -> None:
        first_commit.set()
        await opened.wait()
        await store_bodies(session, bodies)

    monkeypatch.setattr(body_index_queries, "store_bodies", held)
    monkeypatch.setattr(imap_sync, "BODY_BATCH", 10)
    download = asyncio.create_task(
        sync_imap_account(
            store, "x", account({**imap_table(dovecot, mail_user), "offline": "full"})
        )
    )
    await asyncio.wait_for(first_commit.wait(), 30)
    async with ImapRemote() as remote:
        raw = await asyncio.wait_for(fetch_body(store, remote.connection("x", cfg), oldest.id), 10)
    assert not download.done()  # opened while the download was still under way
    opened.set()
    await asyncio.wait_for(download, 60)
    assert raw == next(m.raw for m in messages if m.message_id == oldest.message_id)
