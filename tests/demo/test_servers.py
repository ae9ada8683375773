"""The demo servers: the generated mailbox over IMAP and POP3, SMTP delivery, a clean stop."""

from __future__ import annotations

import asyncio
import imaplib
import socket
import time
from collections.abc import Iterator

import pytest

from tuimail.config import LoadedConfig
from tuimail.demo import seed
from tuimail.demo.servers import IMAP_ADDRESS, PASSWORD, POP3_ADDRESS, DemoPorts, DemoServers
from tuimail.errors import AuthError
from tuimail.protocols.pop3 import Pop3Client
from tuimail.protocols.smtp import SmtpSettings, send
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.accounts import pop3_settings, sync_account
from tuimail.sync.imap_connect import connect
from tuimail.sync.imap_sync import FolderResult, sync_imap_account
from tuimail.sync.sending import Sending
from tuimail.sync.watch import FolderWatcher

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def servers() -> Iterator[DemoServers]:
    running = DemoServers()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def loaded(servers: DemoServers) -> LoadedConfig:
    return servers.loaded_config()


def listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, port)) == 0


def message(subject: str, to: str = IMAP_ADDRESS) -> bytes:
    return (
        f"From: You <{IMAP_ADDRESS}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <t1@demo.test>\r\n\r\nhello\r\n"
    ).encode()


async def submit(ports: DemoPorts, raw: bytes, to: list[str], password: str = PASSWORD) -> None:
    settings = SmtpSettings(ports.host, ports.smtp, "none", timeout=10)
    await send(settings, raw, IMAP_ADDRESS, to, username=IMAP_ADDRESS, password=password)


async def test_imap_lists_every_folder_with_its_special_use_role_and_count(
    servers: DemoServers, loaded: LoadedConfig
) -> None:
    client = await connect("demo", loaded.account("demo"))
    try:
        assert "IDLE" in client.capabilities
        roles = {info.name: info.role for info in await client.list_folders()}
        assert roles == {
            "INBOX": "inbox",
            "Sent": "sent",
            "Archive": "archive",
            "Drafts": "drafts",
            "Trash": "trash",
            "Junk": "junk",
        }
        for folder in servers.folders:
            assert (await client.status(folder.name)).messages == len(folder.messages)
    finally:
        await client.close()


async def test_imap_sync_stores_the_whole_generated_mailbox_malformed_mail_included(
    servers: DemoServers, loaded: LoadedConfig, store: Store
) -> None:
    outcome = await sync_account(store, "demo", loaded.account("demo"))
    assert outcome.ok, outcome.summary
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "demo", "INBOX")
        rows = await queries.list_messages(session, inbox.id)
        drafts = await queries.folder_by_name(session, "demo", "Drafts")
    assert len(rows) == len(servers.folders[0].messages) > 200
    assert rows[0].subject == seed.WELCOME_SUBJECT  # newest first: the welcome is on top
    assert drafts.role == "drafts"
    assert sum(len(folder.messages) for folder in servers.folders) > 300


def test_imap_answers_a_standard_client_and_refuses_a_wrong_password(
    servers: DemoServers,
) -> None:
    assert servers.ports is not None
    imap = imaplib.IMAP4(servers.ports.host, servers.ports.imap, timeout=10)
    with pytest.raises(imaplib.IMAP4.error):
        imap.login(IMAP_ADDRESS, "wrong")
    imap.login(IMAP_ADDRESS, PASSWORD)
    status, data = imap.select("INBOX", readonly=True)
    assert status == "OK" and int(data[0] or 0) == len(servers.folders[0].messages)
    imap.logout()


async def test_pop3_serves_the_generated_maildrop_byte_for_byte(
    servers: DemoServers, loaded: LoadedConfig
) -> None:
    _, settings = pop3_settings(loaded.account("demo-pop"))
    expected = seed.pop3_messages(POP3_ADDRESS, servers.now)
    async with await Pop3Client.connect(settings) as client:
        assert {"UIDL", "TOP", "USER"} <= set(client.capabilities)
        await client.login(POP3_ADDRESS, PASSWORD)
        count, size = await client.stat()
        assert count == len(expected) and size == sum(len(raw) for raw in expected)
        uidls = await client.uidl()
        assert uidls is not None and len(set(uidls.values())) == count
        assert await client.retr(1) == expected[0]
        top = await client.top(count, 0)
        assert seed.POP3_WELCOME_SUBJECT.encode() in top and b"only copy" not in top
        await client.quit()


async def test_pop3_deletes_only_what_a_session_marked_and_then_quit(
    servers: DemoServers, loaded: LoadedConfig
) -> None:
    _, settings = pop3_settings(loaded.account("demo-pop"))
    before = len(servers.pop3.maildrop.messages)
    client = await Pop3Client.connect(settings)
    await client.login(POP3_ADDRESS, PASSWORD)
    await client.dele(1)
    await client.close()  # dropped without QUIT: the deletion is forgotten
    assert len(servers.pop3.maildrop.messages) == before
    client = await Pop3Client.connect(settings)
    await client.login(POP3_ADDRESS, PASSWORD)
    await client.dele(1)
    await client.rset()
    await client.dele(2)
    await client.quit()
    assert len(servers.pop3.maildrop.messages) == before - 1


async def test_pop3_refuses_a_wrong_password(servers: DemoServers, loaded: LoadedConfig) -> None:
    _, settings = pop3_settings(loaded.account("demo-pop"))
    async with await Pop3Client.connect(settings) as client:
        with pytest.raises(AuthError):
            await client.login(POP3_ADDRESS, "wrong")


async def test_mail_sent_to_yourself_arrives_in_the_inbox_through_idle(
    servers: DemoServers, loaded: LoadedConfig, store: Store
) -> None:
    account = loaded.account("demo")
    await sync_imap_account(store, "demo", account)
    changes: asyncio.Queue[FolderResult] = asyncio.Queue()
    watcher = FolderWatcher(store, "demo", account, "INBOX", changes.put_nowait)
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.idling.wait(), 10)
        sending = Sending(store, loaded)
        await sending.submit_new("demo", [IMAP_ADDRESS], [], [], "Note to self", "hi me", [])
        report = await sending.outbox.flush(now=time.time() + account.send_delay)  # undo's wait
        assert [d.outcome for d in report.deliveries] == ["sent"]
        # Without CONDSTORE every pass also counts each flag it re-read as a change: the
        # watcher may report such a pass first, so wait for the one with the new message.
        async with asyncio.timeout(5):
            while (await changes.get()).new != 1:
                pass
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "demo", "INBOX")
        newest = (await queries.list_messages(session, inbox.id, limit=1))[0]
    assert newest.subject == "Note to self"
    sent = next(f for f in servers.folders if f.name == "Sent")
    client = await connect("demo", account)
    try:  # the outbox also kept a copy in the server's Sent folder
        assert (await client.status("Sent")).messages == len(sent.messages) + 1
    finally:
        await client.close()


async def test_smtp_delivers_by_recipient_and_drops_mail_for_strangers(
    servers: DemoServers,
) -> None:
    assert servers.ports is not None
    pop3_before = len(servers.pop3.maildrop.messages)
    raw = message("to both and a stranger")
    await submit(servers.ports, raw, [POP3_ADDRESS, "nobody@example.org"])
    assert len(servers.pop3.maildrop.messages) == pop3_before + 1
    assert servers.pop3.maildrop.messages[-1][1].endswith(raw)


async def test_smtp_refuses_a_wrong_password(servers: DemoServers) -> None:
    assert servers.ports is not None
    with pytest.raises(AuthError):
        await submit(servers.ports, message("x"), [IMAP_ADDRESS], password="wrong")


def test_the_demo_config_has_both_accounts_and_no_clear_text_warning(
    servers: DemoServers, loaded: LoadedConfig
) -> None:
    assert loaded.account("demo").kind == "imap"
    assert loaded.account("demo-pop").kind == "pop3"
    assert loaded.account("demo").smtp is not None
    assert not [w for w in loaded.warnings if "clear text" in w]


def test_stop_closes_every_port_and_ends_the_thread_even_with_clients_connected() -> None:
    servers = DemoServers()
    ports = servers.start()
    imap = imaplib.IMAP4(ports.host, ports.imap, timeout=10)
    imap.login(IMAP_ADDRESS, PASSWORD)
    imap.select("INBOX")
    pop3 = socket.create_connection((ports.host, ports.pop3), timeout=10)
    smtp = socket.create_connection((ports.host, ports.smtp), timeout=10)
    for connection in (pop3, smtp):
        assert connection.recv(4096).endswith(b"\r\n")  # the greeting: the session is open
    thread = servers._thread
    servers.stop()
    assert thread is not None and not thread.is_alive()
    for port in (ports.imap, ports.pop3, ports.smtp):
        assert not listening(ports.host, port)
        with socket.socket() as rebind:
            # With SO_REUSEADDR a bind fails only while a socket still listens on the port
            # (the closed connections' TIME_WAIT does not count).
            rebind.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            rebind.bind((ports.host, port))
            rebind.listen()
    for connection in (pop3, smtp):
        assert connection.recv(4096) == b""  # the server closed its side
        connection.close()
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        imap.noop()
    servers.stop()  # a second stop is harmless
