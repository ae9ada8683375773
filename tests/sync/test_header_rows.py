"""A large header fetch parsed in a child process stores exactly what parsing here stores."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.harness.dovecot import Dovecot, MailUser
from tests.sync.test_imap_sync import config, fill
from tuimail.protocols.imap_parse import MalformedResponse
from tuimail.store.db import Store, open_store
from tuimail.sync import header_rows, imap_sync
from tuimail.sync.header_rows import WorkerRowParser
from tuimail.sync.imap_sync import sync_imap_account

COLUMNS = (
    'uid, message_id, in_reply_to, "references", date, internal_date, from_name, from_email, '
    "to_addrs, cc_addrs, subject, size, has_attachments, seen, answered, flagged, keywords"
)


async def stored_rows(store: Store) -> list[tuple[Any, ...]]:
    async with store.session() as session:
        result = await session.execute(text(f"SELECT {COLUMNS} FROM messages ORDER BY uid"))
        return [tuple(row) for row in result]


def in_child_from(monkeypatch: pytest.MonkeyPatch, messages: int) -> list[WorkerRowParser]:
    """Parse in a child from ``messages`` on; returns the parsers the sync started."""
    started: list[WorkerRowParser] = []
    monkeypatch.setattr(header_rows, "IN_CHILD_FROM", messages)
    original = header_rows.WorkerRowParser.start

    async def start(self: WorkerRowParser) -> None:
        started.append(self)
        await original(self)

    monkeypatch.setattr(header_rows.WorkerRowParser, "start", start)
    return started


@contextlib.asynccontextmanager
async def second_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "inline.sqlite3")
    try:
        yield store
    finally:
        await store.close()


async def test_rows_parsed_in_a_child_are_the_rows_parsed_here(
    store: Store,
    dovecot: Dovecot,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    fill(dovecot, mail_user, 120)
    cfg = config(dovecot, mail_user)
    async with second_store(tmp_path) as inline:
        assert (await sync_imap_account(inline, "x", cfg)).startswith("120 new")
        expected = await stored_rows(inline)
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", 25)  # several FETCHes, several batches
    started = in_child_from(monkeypatch, 1)
    assert (await sync_imap_account(store, "x", cfg)).startswith("120 new")
    assert started and all(parser.answered > 0 for parser in started)
    assert await stored_rows(store) == expected
    assert len(expected) == 120


async def test_a_child_that_dies_leaves_its_batches_to_be_parsed_here(
    store: Store,
    dovecot: Dovecot,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    fill(dovecot, mail_user, 80)
    cfg = config(dovecot, mail_user)
    async with second_store(tmp_path) as inline:
        await sync_imap_account(inline, "x", cfg)
        expected = await stored_rows(inline)
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", 20)
    started = in_child_from(monkeypatch, 1)
    original = WorkerRowParser.put
    puts = 0

    async def put_then_kill(self: WorkerRowParser, batch: list[bytes]) -> Any:
        nonlocal puts
        puts += 1
        done = await original(self, batch)
        if puts == 2 and self.process is not None:
            self.process.kill()  # the child dies with a batch or two of ours
        return done

    monkeypatch.setattr(WorkerRowParser, "put", put_then_kill)
    assert (await sync_imap_account(store, "x", cfg)).startswith("80 new")
    assert started and puts >= 3
    assert await stored_rows(store) == expected


async def test_a_response_the_child_cannot_parse_fails_here_as_it_would_without_it() -> None:
    parser = WorkerRowParser()
    await parser.start()
    try:
        good = b"* 1 FETCH (UID 7 FLAGS (\\Seen))"  # not a header FETCH: handed back as None
        broken = b'* 2 FETCH (UID 8 ENVELOPE ("only one field"))'
        done = await parser.put([good]) + await parser.finish()
        assert [list(rows) for _batch, rows in done] == [[None]]
        done = await parser.put([good, broken]) + await parser.finish()
        [(_batch, rows)] = done
        with pytest.raises(MalformedResponse, match="ten fields"):
            list(rows)
        assert parser.answered == 2
    finally:
        await parser.close()
