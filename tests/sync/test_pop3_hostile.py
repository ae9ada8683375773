"""Broken and hostile POP3 servers (scripted, loopback): the fetcher stops with one clear error,
commits nothing half-done, deletes nothing unstored, and the next run against a good server
completes without a duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.harness.accounts import account
from tests.protocols.pop3_fake import FakePop3Server, Session
from tuimail.demo.mailbox import generate
from tuimail.errors import ConnectionLost, ProtocolError
from tuimail.store.db import Store
from tuimail.sync import pop3_fetch
from tuimail.sync.accounts import sync_pop3

MESSAGES = [m.raw for m in generate(30, seed=9, malformed_every=0)]


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


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pop3_fetch, "BATCH_MESSAGES", 5)


class DropsMidRetr(FakePop3Server):
    async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
        if int(args[0]) == 18:
            await session.send(b"+OK\r\nFrom: half a message\r\n")
            session.writer.transport.abort()
            return "quit"
        return await super().handle_retr(session, args)


class ErrMidRetr(FakePop3Server):
    async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
        if int(args[0]) == 12:
            await session.send_line(b"-ERR [SYS/TEMP] disk on fire")
            return None
        return await super().handle_retr(session, args)


class GarbageAfterDot(FakePop3Server):
    async def handle_retr(self, session: Session, args: list[bytes]) -> str | None:
        result = await super().handle_retr(session, args)
        if int(args[0]) == 7:
            await session.send(b"+OK injected garbage\r\n")
        return result


async def assert_recovers(store: Store, before: list[str]) -> None:
    """A good server afterwards: everything arrives once, deletions only of stored mail."""
    async with FakePop3Server(MESSAGES) as good:
        await sync_pop3(store, "x", account(table(good.port)))
        await good.sessions_finished()
    ids = await stored_ids(store)
    assert ids[: len(before)] == before
    assert sorted(ids) == sorted(f"<9.{n}@gen.example.org>" for n in range(30))
    assert good.committed_deletions == set(range(1, 31))


@pytest.mark.parametrize(
    ("server_class", "error"),
    [(DropsMidRetr, ConnectionLost), (ErrMidRetr, ProtocolError), (GarbageAfterDot, ProtocolError)],
)
async def test_broken_retr_keeps_committed_batches_and_deletes_nothing(
    store: Store, server_class: type[FakePop3Server], error: type[Exception]
) -> None:
    async with server_class(MESSAGES) as server:
        with pytest.raises(error) as info:
            await sync_pop3(store, "x", account(table(server.port)))
        await server.sessions_finished()
    assert "\n" not in str(info.value)
    assert b"DELE" not in server.received_verbs()
    assert server.committed_deletions == set()
    before = await stored_ids(store)
    # Whole batches that were committed before the failure stay; nothing half-stored.
    assert len(before) % 5 == 0 and len(before) < 30
    await assert_recovers(store, before)


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
