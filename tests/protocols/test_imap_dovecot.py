"""The IMAP client against the private Dovecot: TLS, login, folders, messages, CONDSTORE,
QRESYNC, IDLE and a connection cut in the middle of a FETCH."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import email.policy
import logging
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.harness.dovecot import Dovecot, MailUser
from tests.protocols.imap_fake import CuttingProxy, assert_no_secret_logged
from tuimail.demo.mailbox import generate
from tuimail.errors import AuthError, ConnectionLost, MessageNotFound, ProtocolError, TLSError
from tuimail.protocols.imap import ImapClient, ImapSettings
from tuimail.protocols.imap_auth import PasswordMechanism
from tuimail.protocols.imap_records import Exists, Expunge, HeaderRecord, Vanished
from tuimail.protocols.imap_search import header_key


def crlf(raw: bytes) -> bytes:
    """A message as Dovecot serves it: every line ending CRLF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def imaps(dovecot: Dovecot, context: ssl.SSLContext | None, **overrides: Any) -> ImapSettings:
    values: dict[str, Any] = {
        "host": dovecot.host,
        "port": dovecot.imaps_port,
        "security": "tls",
        "ssl_context": context,
        "timeout": 20.0,
    }
    values.update(overrides)
    return ImapSettings(**values)


@contextlib.asynccontextmanager
async def session(
    dovecot: Dovecot, user: MailUser, context: ssl.SSLContext, folder: str | None = "INBOX"
) -> AsyncIterator[ImapClient]:
    """A logged-in client over IMAPS, with ``folder`` selected."""
    async with await ImapClient.connect(imaps(dovecot, context)) as client:
        await client.login(user.name, user.password)
        if folder is not None:
            await client.select(folder)
        yield client


async def fetch_all(client: ImapClient, uid_range: str = "1:*") -> list[HeaderRecord]:
    return [record async for group in client.fetch_header_groups(uid_range) for record in group]


# Connecting and logging in


async def test_imaps_login_verifies_the_certificate_against_the_ca(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    async with await ImapClient.connect(imaps(dovecot, tls_context)) as client:
        await client.login(mail_user.name, mail_user.password)
        assert {"IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "QRESYNC"} <= client.capabilities


async def test_an_untrusted_certificate_raises_tls_error(dovecot: Dovecot) -> None:
    with pytest.raises(TLSError, match="untrusted TLS certificate"):
        await ImapClient.connect(imaps(dovecot, None))  # the system store lacks the test CA


async def test_starttls_upgrades_the_plain_port_and_rereads_capabilities(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    settings = imaps(dovecot, tls_context, port=dovecot.imap_port, security="starttls")
    async with await ImapClient.connect(settings) as client:
        assert "STARTTLS" not in client.capabilities  # the list read after the handshake
        await client.login(mail_user.name, mail_user.password)
        assert (await client.select("INBOX")).exists == 0


@pytest.mark.parametrize("mechanism", ["login", "plain"])
async def test_login_and_authenticate_plain_both_log_in(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext, mechanism: Any
) -> None:
    async with await ImapClient.connect(imaps(dovecot, tls_context)) as client:
        await client.login(mail_user.name, mail_user.password, mechanism=mechanism)
        assert (await client.status("INBOX")).messages == 0


async def test_a_wrong_password_raises_auth_error(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    async with await ImapClient.connect(imaps(dovecot, tls_context)) as client:
        with pytest.raises(AuthError, match="refused the login: Authentication failed"):
            await client.login(mail_user.name, "not-the-password")


async def test_no_password_reaches_the_log_at_debug(
    dovecot: Dovecot,
    mail_user: MailUser,
    tls_context: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    mechanisms: list[PasswordMechanism] = ["login", "plain"]
    for mechanism in mechanisms:
        async with await ImapClient.connect(imaps(dovecot, tls_context)) as client:
            await client.login(mail_user.name, mail_user.password, mechanism=mechanism)
            await client.select("INBOX")
    assert any(r.name == "tuimail.protocols.imap" for r in caplog.records)
    blob = b"\0" + mail_user.name.encode() + b"\0" + mail_user.password.encode()
    for record in caplog.records:
        assert base64.b64encode(blob).decode() not in record.getMessage()
    assert_no_secret_logged(caplog, mail_user.password)


# Folders


async def test_list_folders_reports_special_use_roles_and_subscriptions(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    async with session(dovecot, mail_user, tls_context, folder=None) as client:
        folders = {folder.name: folder for folder in await client.list_folders()}
    assert {name: f.role for name, f in folders.items()} == {
        "INBOX": "inbox",
        "Drafts": "drafts",
        "Sent": "sent",
        "Trash": "trash",
        "Junk": "junk",
        "Archive": "archive",
    }
    assert folders["Sent"].subscribed and folders["Sent"].delimiter == "/"
    assert folders["Sent"].selectable


async def test_list_folders_with_status_counts_every_folder_in_the_same_list(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    async with session(dovecot, mail_user, tls_context, folder=None) as client:
        await client.create_folder("Entwürfe")
        await client.append("Entwürfe", b"Subject: hi\r\n\r\nx\r\n")
        folders, statuses = await client.list_folders_with_status()
        assert set(statuses) == {f.name for f in folders if f.selectable}
        for name in ("INBOX", "Sent", "Entwürfe"):
            assert statuses[name] == await client.status(name), name
    assert statuses["Entwürfe"].messages == 1 and statuses["Sent"].messages == 0


async def test_non_ascii_folders_round_trip_through_modified_utf7(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    async with session(dovecot, mail_user, tls_context, folder=None) as client:
        await client.create_folder("Entwürfe/日本語 & more")
        listed = {f.name: f for f in await client.list_folders()}
        assert listed["Entwürfe/日本語 & more"].raw_name == "Entw&APw-rfe/&ZeVnLIqe- &- more"
        await client.append("Entwürfe/日本語 & more", b"Subject: hi\r\n\r\nx\r\n")
        await client.rename_folder("Entwürfe/日本語 & more", "Ärger ☃")
        await client.subscribe("Ärger ☃")
        renamed = {f.name: f for f in await client.list_folders()}
        assert "Entwürfe/日本語 & more" not in renamed and renamed["Ärger ☃"].subscribed
        assert (await client.select("Ärger ☃")).exists == 1
        await client.select("INBOX")
        await client.delete_folder("Ärger ☃")
        assert "Ärger ☃" not in {f.name for f in await client.list_folders()}
        with pytest.raises((ProtocolError, MessageNotFound), match="Ärger ☃"):
            await client.select("Ärger ☃")


async def test_select_and_status_report_the_folder(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    messages = [m.raw for m in generate(5, seed=3)]
    dovecot.deliver(mail_user, messages[:2], seen=True)
    dovecot.deliver(mail_user, messages[2:])
    async with session(dovecot, mail_user, tls_context, folder=None) as client:
        status = await client.status("INBOX")
        state = await client.select("INBOX")
        examined = await client.select("INBOX", readonly=True)
    assert (status.messages, status.unseen, status.uidnext) == (5, 3, 6)
    assert (state.exists, state.uidnext, state.uidvalidity) == (5, 6, status.uidvalidity)
    assert state.highestmodseq is not None and status.highestmodseq is not None
    assert "\\Seen" in state.permanent_flags and not state.readonly and examined.readonly


# Reading messages


async def test_fetch_headers_match_the_generated_messages(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    generated = {m.message_id: m for m in generate(300, seed=11)}
    dovecot.deliver(mail_user, [m.raw for m in generated.values()])
    async with session(dovecot, mail_user, tls_context) as client:
        records = await fetch_all(client, "1:150") + await fetch_all(client, "151:*")
    assert sorted(r.uid for r in records) == list(range(1, 301))
    assert {r.message_id for r in records} == set(generated)
    for record in records:
        message = generated[record.message_id or ""]
        parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
        assert record.size == record.envelope.size == len(crlf(message.raw))
        assert record.references == tuple(str(parsed.get("References", "")).split())
        assert record.in_reply_to == (parsed["In-Reply-To"] or None)
        assert record.internal_date.tzinfo is not None
        if message.malformed:
            assert record.envelope.date is None
            continue
        assert record.envelope.subject == message.subject
        assert record.envelope.from_[0].name == parsed["From"].addresses[0].display_name
        assert record.envelope.from_[0].email == parsed["From"].addresses[0].addr_spec
        assert record.envelope.date == parsed["Date"].datetime
        assert record.has_attachments == (b"Content-Disposition: attachment" in message.raw)
    assert any(r.has_attachments for r in records) and any(r.references for r in records)


async def test_leaving_a_header_fetch_early_keeps_the_session_usable(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(500, seed=2)])
    async with session(dovecot, mail_user, tls_context) as client:
        headers = client.fetch_header_groups("1:*")
        async with contextlib.aclosing(headers):
            async for _group in headers:
                break
        assert client.take_events() == []  # the rest was read and dropped, not taken as news
        assert len(await fetch_all(client, "1:10")) == 10


async def test_fetch_body_is_byte_exact_with_crlf_line_endings(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    messages = [m.raw for m in generate(40, seed=5)]
    dovecot.deliver(mail_user, messages)
    async with session(dovecot, mail_user, tls_context) as client:
        ids = {r.uid: r.message_id or "" for r in await fetch_all(client)}
        by_id = {m.message_id: crlf(m.raw) for m in generate(40, seed=5)}
        assert await client.fetch_body(1) == by_id[ids[1]]
        bodies = [item async for item in client.fetch_bodies(range(1, 41), batch_size=7)]
        with pytest.raises(MessageNotFound):
            await client.fetch_body(999)
        flags = await client.fetch_flags("1:*")
    assert [uid for uid, _ in bodies] == list(range(1, 41))
    assert all(body == by_id[ids[uid]] for uid, body in bodies)
    assert all("\\Seen" not in r.flags for r in flags)  # BODY.PEEK leaves messages unread


async def test_fetch_takes_a_uid_set_of_several_parts(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(6, seed=8)])
    async with session(dovecot, mail_user, tls_context) as client:
        flags = await client.fetch_flags("1,3:5")
        headers = await fetch_all(client, "2,6")
    assert sorted(r.uid for r in flags) == [1, 3, 4, 5]
    assert sorted(r.uid for r in headers) == [2, 6]


async def test_uid_search_finds_all_and_non_ascii_text(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    messages = list(generate(30, seed=9))
    dovecot.deliver(mail_user, [m.raw for m in messages])
    async with session(dovecot, mail_user, tls_context) as client:
        assert await client.uid_search("ALL") == list(range(1, 31))
        found = await client.uid_search('FROM "Zoë Ångström" NOT DELETED')
        records = {r.uid: r for r in await fetch_all(client)}
    expected = [uid for uid, r in records.items() if r.envelope.from_[0].name == "Zoë Ångström"]
    assert found == expected and found


async def test_header_search_finds_substrings_and_the_field_fetch_tells_them_apart(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    async with session(dovecot, mail_user, tls_context, folder=None) as client:
        for key in ("3", "13", 'a "quoted" \\ key'):
            await client.append("Drafts", f"X-Tuimail-Draft: {key}\r\n\r\nx\r\n".encode())
        await client.select("Drafts")
        assert await client.uid_search(header_key("X-Tuimail-Draft", "3")) == [1, 2]
        lines = await client.fetch_header_field([1, 2, 3], "X-Tuimail-Draft")
        quoted = await client.uid_search(header_key("X-Tuimail-Draft", 'a "quoted" \\ key'))
    assert lines == {
        1: b"X-Tuimail-Draft: 3\r\n\r\n",
        2: b"X-Tuimail-Draft: 13\r\n\r\n",
        3: b'X-Tuimail-Draft: a "quoted" \\ key\r\n\r\n',
    }
    assert quoted == [3]
    with pytest.raises(ValueError, match="header field name"):
        header_key("X-Draft) ALL (", "3")


# Changing messages


async def test_append_returns_the_uid_and_stores_flags_and_date(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    raw = next(generate(1, seed=4)).raw
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    async with session(dovecot, mail_user, tls_context) as client:
        uid = await client.append("Drafts", raw, flags={"\\Draft", "\\Seen"}, internal_date=when)
        state = await client.select("Drafts")
        assert uid is not None and state.uidnext == uid + 1
        [record] = await fetch_all(client, str(uid))
        assert await client.fetch_body(uid) == crlf(raw)
    assert record.flags == {"\\Draft", "\\Seen"} and record.internal_date == when


async def test_store_copy_move_and_expunge(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(6, seed=6)])
    async with session(dovecot, mail_user, tls_context) as client:
        stored = await client.store_flags([1, 2], add={"\\Flagged", "$Label1"})
        assert {r.uid for r in stored.updated} == {1, 2}
        assert all({"\\Flagged", "$Label1"} <= r.flags for r in stored.updated)
        await client.store_flags([2], remove={"\\Flagged"})
        flags = {r.uid: r.flags for r in await client.fetch_flags("1:3")}
        assert flags == {1: {"\\Flagged", "$Label1"}, 2: {"$Label1"}, 3: frozenset()}

        copied = await client.copy([1, 3], "Archive")
        assert sorted(copied) == [1, 3]
        moved = await client.move([4, 5], "Trash")
        assert sorted(moved) == [4, 5]
        assert any(isinstance(e, Expunge | Vanished) for e in client.take_events())
        await client.expunge([6])
        assert await client.uid_search("ALL") == [1, 2, 3]
        assert (await client.status("Archive")).messages == 2
        assert (await client.status("Trash")).messages == 2


async def test_move_without_the_move_extension_copies_and_expunges(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(3, seed=8)])
    async with session(dovecot, mail_user, tls_context) as client:
        session_ = client._session
        session_.capabilities = session_.capabilities - {"MOVE"}  # pretend an older server
        mapping = await client.move([2], "Junk")
        assert list(mapping) == [2]
        assert await client.uid_search("ALL") == [1, 3]
        assert (await client.status("Junk")).messages == 1


async def test_condstore_changedsince_returns_only_changed_flags(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(5, seed=12)])
    async with session(dovecot, mail_user, tls_context, folder=None) as client:
        assert "CONDSTORE" in await client.enable("CONDSTORE")
        state = await client.select("INBOX")
        assert state.highestmodseq is not None
        before = await client.fetch_flags("1:*")
        await client.store_flags([2], add={"\\Flagged"})
        changed = await client.fetch_flags("1:*", changedsince=state.highestmodseq)
        conflict = await client.store_flags([3], add={"\\Seen"}, unchangedsince=1)
    assert all(r.modseq is not None for r in before)
    assert [(r.uid, r.flags) for r in changed] == [(2, frozenset({"\\Flagged"}))]
    assert changed[0].modseq is not None and changed[0].modseq > state.highestmodseq
    assert conflict.modified == (3,) and conflict.updated == ()


async def test_qresync_select_reports_what_another_connection_changed(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(5, seed=13)])
    async with session(dovecot, mail_user, tls_context, folder=None) as first:
        await first.enable("QRESYNC")
        known = await first.select("INBOX")
    assert known.highestmodseq is not None
    async with session(dovecot, mail_user, tls_context) as other:
        await other.expunge([2])
        await other.store_flags([3], add={"\\Seen"})
    async with session(dovecot, mail_user, tls_context, folder=None) as again:
        state = await again.select("INBOX", qresync=(known.uidvalidity, known.highestmodseq))
    assert state.vanished == (2,)
    assert [(r.uid, r.flags) for r in state.changed] == [(3, frozenset({"\\Seen"}))]
    assert state.exists == 4


async def test_idle_receives_exists_when_another_connection_appends(
    dovecot: Dovecot, mail_user: MailUser, tls_context: ssl.SSLContext
) -> None:
    raw = next(generate(1, seed=14)).raw
    async with (
        session(dovecot, mail_user, tls_context) as watcher,
        session(dovecot, mail_user, tls_context, folder=None) as sender,
    ):
        async with asyncio.timeout(30), watcher.idle(timeout=60) as events:
            await sender.append("INBOX", raw)  # IDLE is running once the block is entered
            async for event in events:
                if isinstance(event, Exists):
                    break
        assert event == Exists(1)
        await watcher.noop()  # the session is usable after DONE


async def test_a_connection_cut_mid_fetch_raises_connection_lost(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(2000, seed=15)])
    async with CuttingProxy(dovecot) as proxy:
        settings = ImapSettings(dovecot.host, proxy.port, "none", timeout=20)
        client = await ImapClient.connect(settings)
        await client.login(mail_user.name, mail_user.password)
        await client.select("INBOX")
        proxy.cut_after(200_000)  # about a quarter of the header fetch
        received = 0
        with pytest.raises(ConnectionLost, match="closed the connection unexpectedly"):
            async for group in client.fetch_header_groups("1:*"):
                received += len(group)
        assert proxy.cut.is_set() and 0 < received < 2000
        with pytest.raises(ConnectionLost):
            await client.noop()
