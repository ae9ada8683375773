"""The first screen read with plain sqlite3 is what the ORM path would have shown."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.store.test_queries import seeded
from tuimail.store import queries, ui_queries
from tuimail.store.db import Store
from tuimail.store.first_screen import read_first_screen


async def test_the_first_screen_matches_the_stores_own_reads(store: Store) -> None:
    folder = await seeded(store, 30)
    async with store.session() as session:
        account = await queries.ensure_account(session, "work", "imap", "ann@example.org")
        await queries.ensure_folder(session, account, "Archive", delimiter="/")
        await queries.ensure_folder(session, account, "Trash", role="trash", delimiter="/")
        folders = await queries.folders(session, account)
        head = await ui_queries.ordered_ids(session, folder, 10)
        rows = await queries.messages_by_ids(session, head)

    first = read_first_screen(store.path, ["work", "never-synced"], 10)

    assert first is not None
    assert first.accounts == (("work", tuple(folders)), ("never-synced", ()))
    assert first.folder_id == folder  # the Inbox, as the interface opens it
    assert list(first.head) == head and not first.complete
    assert [first.rows[pk] for pk in head] == rows  # same records, booleans and dates included
    assert any(not row.seen for row in rows) and any(row.seen for row in rows)


async def test_a_small_folder_is_read_whole(store: Store) -> None:
    await seeded(store, 4)
    first = read_first_screen(store.path, ["work"], 10)
    assert first is not None and first.complete and len(first.head) == 4


async def test_no_first_screen_without_an_up_to_date_store(tmp_path: Path, store: Store) -> None:
    assert read_first_screen(tmp_path / "missing.sqlite3", ["work"], 10) is None
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    assert read_first_screen(garbage, ["work"], 10) is None

    await seeded(store, 3)
    await store.close()
    with sqlite3.connect(store.path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0003'")
    assert read_first_screen(store.path, ["work"], 10) is None  # open_store migrates it first


async def test_no_folders_yet(store: Store) -> None:
    first = read_first_screen(store.path, ["work"], 10)
    assert first is not None
    assert first.accounts == (("work", ()),) and first.folder_id is None and not first.rows
