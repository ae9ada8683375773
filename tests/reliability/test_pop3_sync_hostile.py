"""Broken and hostile POP3 servers (scripted, loopback) in the middle of a real download into a
real store: the fetcher stops with one clear error, commits nothing half-done, deletes nothing
unstored, keeps memory bounded, and the next run against the private Dovecot (the mailbox the
fake was serving, same UIDLs) completes without a duplicate.

Moved here from tests/sync/test_pop3_hostile.py, whose good server was another fake.
"""

from __future__ import annotations

import functools
import poplib
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from tests.harness.accounts import account, pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.protocols.pop3_fake import FakePop3Server, Session
from tuimail.demo.mailbox import generate
from tuimail.errors import ConnectionLost, ProtocolError, TuimailError
from tuimail.protocols import pop3
from tuimail.protocols.pop3 import Pop3Settings
from tuimail.store.db import Store
from tuimail.sync import pop3_fetch
from tuimail.sync.accounts import sync_pop3

pytestmark = pytest.mark.timeout(60)

COUNT = 30
BATCH = 5
MESSAGES = [m.raw for m in generate(COUNT, seed=9, malformed_every=0)]
LIMIT = 1024 * 1024  # max_message_size for these runs: the real 100 MiB takes too long to send


def table(port: int, **extra: Any) -> dict[str, Any]:
    server = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": "alice",
        "password": "secret",
        "leave_on_server": False,
        "timeout": 5.0,
    }
    server.update(extra)
    return {"email": "alice@example.org", "pop3": server}


async def stored_ids(store: Store) -> list[str]:
    async with store.session() as session:
        rows = await session.execute(text("SELECT message_id FROM messages ORDER BY id"))
        return [r[0] for r in rows]


async def integrity(store: Store) -> str:
    async with store.session() as session:
        return str((await session.execute(text("PRAGMA integrity_check"))).scalar_one())


@pytest.fixture(autouse=True)
def small_batches_and_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pop3_fetch, "BATCH_MESSAGES", BATCH)
    monkeypatch.setattr(
        pop3, "Pop3Settings", functools.partial(Pop3Settings, max_message_size=LIMIT)
    )


# The mailbox of a Dovecot user, served by the scriptable fake with Dovecot's own UIDLs, so a
# run against the fake and a run against Dovecot see the same messages.


@dataclass(frozen=True)
class Mailbox:
    messages: list[bytes]
    uidls: list[str]


def dovecot_mailbox(dovecot: Dovecot, user: MailUser) -> Mailbox:
    dovecot.deliver(user, MESSAGES)
    pop = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=10)
    try:
        pop.user(user.name)
        pop.pass_(user.password)
        uidls = [line.split()[1].decode() for line in pop.uidl()[1]]
        raws = [b"\r\n".join(pop.retr(n)[1]) + b"\r\n" for n in range(1, len(uidls) + 1)]
    finally:
        pop.quit()
    return Mailbox(raws, uidls)


HOSTILE_AT = 18  # three whole batches of five come before it

# What the server does instead of answering RETR of message HOSTILE_AT; "quit" ends the session.
Misdeed = Callable[["Twin", Session, list[bytes]], Awaitable[str | None]]


class Twin(FakePop3Server):
    """Serves a Dovecot mailbox (the same bytes and UIDLs), with a misdeed at one RETR."""

    def __init__(self, mailbox: Mailbox, misdeed: Misdeed | None = None) -> None:
        super().__init__(mailbox.messages)
        self.uidls = mailbox.uidls
        self.misdeed = misdeed

    async def handle_uidl(self, session: Session, args: list[bytes]) -> str | None:
        live = self._live(session)
        lines = b"".join(b"%d %s\r\n" % (n, self.uidls[n - 1].encode()) for n in live)
        await session.send_multiline(b"+OK", lines + b".\r\n")
        return None

    async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
        if self.misdeed is not None and args[:1] == [b"%d" % HOSTILE_AT]:
            return await self.misdeed(self, session, args)
        return await super().handle_retr(session, args)


class AnnouncesHugeList(Twin):
    def announced_size(self, msgno: int) -> int:
        return 200 * 1024 * 1024 if msgno == HOSTILE_AT else super().announced_size(msgno)


async def drop_mid_retr(server: Twin, session: Session, args: list[bytes]) -> str | None:
    await session.send(b"+OK\r\nFrom: half a message\r\n")
    session.writer.transport.abort()
    return "quit"


async def err_mid_retr(server: Twin, session: Session, args: list[bytes]) -> str | None:
    await session.send_line(b"-ERR [SYS/TEMP] disk on fire")
    return None


async def garbage_after_dot(server: Twin, session: Session, args: list[bytes]) -> str | None:
    result = await FakePop3Server.handle_retr(server, session, args)
    await session.send(b"+OK injected garbage\r\n")
    return result


async def megabyte_status_line(server: Twin, session: Session, args: list[bytes]) -> str | None:
    await session.send(b"+OK " + b"x" * (1024 * 1024) + b"\r\n")
    await session.wait_for_client_to_leave()
    return "quit"


async def endless_message(server: Twin, session: Session, args: list[bytes]) -> str | None:
    await session.send(b"+OK here it comes\r\n")
    line = b"y" * 998 + b"\r\n"
    for _ in range(64 * 1024):  # 64 MiB, unless the client hangs up first
        await session.send(line)
    return "quit"


async def announce_200mb(server: Twin, session: Session, args: list[bytes]) -> str | None:
    await session.send_line(b"+OK 209715200 octets")
    await session.wait_for_client_to_leave()
    return "quit"


async def garbled(server: Twin, session: Session, args: list[bytes]) -> str | None:
    await session.send(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\xff\xfe\x1b[2J\r\n")
    return None


async def stall(server: Twin, session: Session, args: list[bytes]) -> str | None:
    await session.send(b"+OK\r\nSubject: and then nothing\r\n")
    await session.wait_for_client_to_leave()
    return "quit"


@dataclass(frozen=True)
class Case:
    misdeed: Misdeed | None
    error: type[TuimailError]
    message: str
    memory_mib: float | None = None  # measured with tracemalloc where the server floods
    timeout: float = 5.0
    stored: int = 15  # three batches of five come before message 18
    server: type[Twin] = Twin


CASES = {
    "disconnect-mid-retr": Case(drop_mid_retr, ConnectionLost, "closed the connection"),
    "err-mid-retr": Case(err_mid_retr, ProtocolError, "refused RETR 18: [SYS/TEMP] disk on fire"),
    # The stray line is read as the start of the next reply, so message 19 is the suspect, the
    # batches after it are already committed when the check fails.
    "garbage-after-dot": Case(
        garbage_after_dot, ProtocolError, "sent message 19 differently twice", stored=25
    ),
    "1mb-status-line": Case(megabyte_status_line, ProtocolError, "line longer than 64 KiB", 4),
    "endless-message": Case(endless_message, ProtocolError, "more than 1 MiB", 8),
    "200mb-in-retr": Case(announce_200mb, ProtocolError, "is 200 MiB, over the 1 MiB", 4),
    "garbage-reply": Case(garbled, ProtocolError, "invalid reply to RETR 18"),
    "stall": Case(stall, ConnectionLost, r"did not answer within 0.5 s", timeout=0.5),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_a_broken_download_keeps_whole_batches_deletes_nothing_and_dovecot_completes_it(
    store: Store, dovecot: Dovecot, mail_user: MailUser, name: str
) -> None:
    case = CASES[name]
    mailbox = dovecot_mailbox(dovecot, mail_user)
    async with case.server(mailbox, case.misdeed) as server:
        if case.memory_mib is not None:
            tracemalloc.start()
        try:
            with pytest.raises(case.error) as info:
                await sync_pop3(store, "x", account(table(server.port, timeout=case.timeout)))
            peak = tracemalloc.get_traced_memory()[1] if case.memory_mib is not None else 0
        finally:
            tracemalloc.stop()
        await server.sessions_finished()
    assert case.message in str(info.value)
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)
    if case.memory_mib is not None:
        assert peak < case.memory_mib * 2**20
    assert b"DELE" not in server.received_verbs() and server.committed_deletions == set()
    assert await integrity(store) == "ok"
    before = await stored_ids(store)
    # Whole batches committed before the failure stay; nothing of the broken one.
    assert len(before) == case.stored

    good = pop3_table(dovecot, mail_user, leave_on_server=False)
    summary = await sync_pop3(store, "x", account(good))
    assert summary.startswith(f"{COUNT - case.stored} new, {COUNT} deleted on the server")
    ids = await stored_ids(store)
    assert ids[: case.stored] == before
    assert sorted(ids) == sorted(f"<9.{n}@gen.example.org>" for n in range(COUNT))
    assert await integrity(store) == "ok"


async def test_a_message_over_the_size_limit_does_not_hold_back_the_rest(store: Store) -> None:
    async with AnnouncesHugeList(Mailbox(MESSAGES, [f"u{n}" for n in range(COUNT)])) as server:
        # LIST announces one message as 200 MiB: the rest arrive, it stays, the user is told.
        summary = await sync_pop3(store, "x", account(table(server.port)))
        await server.sessions_finished()
    assert "1 over max_message_size left on the server" in summary
    assert len(await stored_ids(store)) == COUNT - 1


async def test_a_message_with_megabyte_lines_arrives_intact(store: Store) -> None:
    raw = b"Subject: long lines\r\nMessage-ID: <long@x>\r\n\r\n" + b"z" * 1_000_000 + b"\r\n"
    async with FakePop3Server([raw]) as server:
        assert (await sync_pop3(store, "x", account(table(server.port)))).startswith("1 new")
        await server.sessions_finished()
    async with store.session() as session:
        body = await session.execute(text("SELECT raw FROM message_bodies"))
        assert body.scalar_one() == raw


class NoUidl(FakePop3Server):
    capabilities = (b"USER", b"TOP")

    async def handle_uidl(self, session: Session, args: list[bytes]) -> str | None:
        await session.send_line(b"-ERR unknown command")
        return None


async def test_server_without_uidl_uses_digests_and_never_deletes_ambiguous_twins(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    twins = [MESSAGES[0], MESSAGES[1], MESSAGES[1], MESSAGES[2]]
    async with NoUidl(twins) as server:
        summary = await sync_pop3(store, "x", account(table(server.port)))
        await server.sessions_finished()
    assert "digests used" in summary
    assert "no UIDL" in caplog.text
    assert len(await stored_ids(store)) == 4
    assert server.committed_deletions == {1, 4}  # the identical pair stays on the server
    async with NoUidl(twins) as again:
        assert (await sync_pop3(store, "x", account(table(again.port)))).startswith("0 new")
        await again.sessions_finished()


class DuplicateUidl(FakePop3Server):
    async def handle_uidl(self, session: Session, args: list[bytes]) -> str | None:
        await session.send_multiline(b"+OK", b"1 same\r\n2 same\r\n3 other\r\n.\r\n")
        return None


async def test_two_messages_with_one_uidl_are_neither_duplicated_nor_deleted(store: Store) -> None:
    async with DuplicateUidl(MESSAGES[:3]) as server:
        await sync_pop3(store, "x", account(table(server.port)))
        await server.sessions_finished()
    assert len(await stored_ids(store)) == 2
    assert server.committed_deletions == {3}


class RefusesLogin(FakePop3Server):
    async def handle_pass(self, session: Session, args: list[bytes]) -> str | None:
        await session.send_line(b"-ERR [AUTH] \x1b[31mbad\x1b]8;;http://x\x07 password")
        return None


async def test_server_error_text_reaches_the_user_without_escape_sequences(store: Store) -> None:
    async with RefusesLogin(MESSAGES[:1]) as server:
        with pytest.raises(ProtocolError) as info:
            await sync_pop3(store, "x", account(table(server.port, auth="user")))
        await server.sessions_finished()
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)
    assert await stored_ids(store) == []


COPIES = 200


class InexactList(FakePop3Server):
    """A server whose LIST sizes are all a little off (some count LF line ends, some guess)."""

    def announced_size(self, msgno: int) -> int:
        return super().announced_size(msgno) + 7


async def test_a_server_with_inexact_list_sizes_is_stored_once_in_bounded_memory(
    store: Store,
) -> None:
    # Every message differs from LIST, so each is checked with a second RETR. The first copies
    # must not pile up until the end: 200 messages of 100 KiB would be 20 MiB held at once.
    line = b"the quick brown fox jumps over the lazy dog, again and again\r\n"
    big = [
        b"Message-ID: <big.%d@x>\r\nSubject: big %d\r\n\r\n" % (n, n) + line * 1600
        for n in range(COPIES)
    ]
    async with InexactList(big) as server:
        tracemalloc.start()
        try:
            summary = await sync_pop3(store, "x", account(table(server.port, leave_on_server=True)))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        await server.sessions_finished()
    assert summary.startswith(f"{COPIES} new")
    assert sorted(await stored_ids(store)) == sorted(f"<big.{n}@x>" for n in range(COPIES))
    async with store.session() as session:
        bodies = (await session.execute(text("SELECT raw FROM message_bodies"))).scalars()
        assert sorted(bodies) == sorted(big)
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"
