"""When QUIT goes: early when nothing will be deleted, only after the commits and DELEs when
something may be; a QUIT that fails never costs a stored message."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.harness.accounts import account
from tests.protocols.pop3_fake import FakePop3Server, Session
from tuimail.config import AccountConfig
from tuimail.demo.mailbox import generate
from tuimail.errors import TuimailError
from tuimail.store import pop3_queries
from tuimail.store.db import Store
from tuimail.sync import pop3_fetch
from tuimail.sync.accounts import sync_pop3

pytestmark = pytest.mark.timeout(60)

MESSAGES = [m.raw for m in generate(23, seed=4, malformed_every=0)]


def account_for(port: int, **server: Any) -> AccountConfig:
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": "alice",
        "password": "secret",
        "timeout": 5.0,
        **server,
    }
    return account({"email": "alice@example.org", "pop3": settings})


async def stored_count(store: Store) -> int:
    async with store.session() as session:
        return int((await session.execute(text("SELECT count(*) FROM messages"))).scalar_one())


class QuitWatcher(FakePop3Server):
    """Notes how many messages the store held when QUIT came; can refuse or drop QUIT."""

    def __init__(self, store: Store, quit_reply: bytes | None = b"+OK bye") -> None:
        super().__init__(MESSAGES)
        self.store = store
        self.quit_reply = quit_reply
        self.stored_at_quit: int | None = None

    async def handle_quit(self, session: Session, args: list[bytes]) -> str | None:
        self.stored_at_quit = await stored_count(self.store)
        if self.quit_reply is None:
            return "quit"  # hang up without a word
        if self.quit_reply.startswith(b"+OK"):
            self.committed_deletions |= session.deleted
        await session.send_line(self.quit_reply)
        return "quit"


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pop3_fetch, "BATCH_MESSAGES", 5)


async def test_leave_on_server_quits_after_the_last_retr_and_still_stores_all(
    store: Store,
) -> None:
    async with QuitWatcher(store) as server:
        summary = await sync_pop3(store, "a", account_for(server.port))
    assert summary.startswith(f"{len(MESSAGES)} new, 0 deleted")
    assert server.received_verbs()[-1] == b"QUIT"
    assert b"DELE" not in server.received_verbs()
    assert await stored_count(store) == len(MESSAGES)


async def test_with_deletions_quit_comes_after_every_commit_and_dele(store: Store) -> None:
    server = QuitWatcher(store)
    async with server:
        summary = await sync_pop3(store, "a", account_for(server.port, leave_on_server=False))
    assert summary.startswith(f"{len(MESSAGES)} new, {len(MESSAGES)} deleted")
    verbs = server.received_verbs()
    assert verbs[-1] == b"QUIT" and verbs.count(b"DELE") == len(MESSAGES)
    assert server.stored_at_quit == len(MESSAGES)
    assert server.committed_deletions == set(range(1, len(MESSAGES) + 1))


@pytest.mark.parametrize("reply", [b"-ERR cannot update the maildrop", None])
async def test_a_failed_early_quit_is_reported_after_every_message_is_stored(
    store: Store, reply: bytes | None
) -> None:
    async with QuitWatcher(store, quit_reply=reply) as server:
        with pytest.raises(TuimailError):
            await sync_pop3(store, "a", account_for(server.port))
    assert await stored_count(store) == len(MESSAGES)
    async with store.session() as session:
        account_pk = (
            await session.execute(text("SELECT id FROM accounts WHERE name = 'a'"))
        ).scalar_one()
        known = await pop3_queries.known_uidls(session, account_pk)
    assert len(known) == len(MESSAGES)  # the next run downloads nothing twice
