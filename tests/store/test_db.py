"""Opening the store: pragmas, permissions, one writer, read-only access, migrations."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from tuimail.errors import StoreError
from tuimail.store.db import (
    Store,
    alembic_config,
    current_revision,
    head_revision,
    migrate,
    open_store,
    sync_connection,
)
from tuimail.store.models import Base


async def test_store_uses_wal_foreign_keys_and_full_sync(store: Store) -> None:
    async with store.session() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await session.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL


async def test_store_files_are_private(store: Store, data_dir: Path) -> None:
    async with store.session() as session:
        await session.execute(text("SELECT 1"))
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    for path in data_dir.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path


async def test_second_writer_is_refused_with_a_clear_message(store: Store) -> None:
    code = (
        "import asyncio, sys\n"
        "from tuimail.store.db import open_store\n"
        "from tuimail.errors import StoreError\n"
        "try:\n"
        f"    asyncio.run(open_store(__import__('pathlib').Path({str(store.path)!r})))\n"
        "except StoreError as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert f"pid {os.getpid()}" in result.stdout and "close it first" in result.stdout


async def test_readonly_open_works_beside_a_writer(store: Store) -> None:
    reader = await open_store(store.path, readonly=True)
    try:
        async with reader.session() as session:
            assert (await session.execute(text("SELECT count(*) FROM accounts"))).scalar() == 0
    finally:
        await reader.close()


async def test_readonly_open_of_a_missing_store_says_to_sync(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run `tuimail sync` first"):
        await open_store(tmp_path / "none.sqlite3", readonly=True)


def test_a_corrupt_file_gives_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the mail store"):
        migrate(path)


def test_schema_head_constant_names_the_newest_migration() -> None:
    from tuimail.store.files import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD


def test_models_match_the_migrations(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    migrate(path, head_revision())  # by name, not "head": through every migration
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    # The FTS5 virtual table and its shadow tables are created by SQL, not by the models.
    real = [
        d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("messages_fts"))
    ]
    assert real == []


def test_upgrade_from_the_first_schema_keeps_every_message(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    migrate(path, "0001")
    assert current_revision(path) == "0001"
    with sync_connection(path) as db:
        db.execute("INSERT INTO accounts (id, name, kind, email) VALUES (1, 'home', 'pop3', 'a@b')")
        db.execute(
            "INSERT INTO folders (id, account_id, name, subscribed, is_local, total_count, "
            "unread_count) VALUES (1, 1, 'INBOX', 1, 1, 0, 0)"
        )
        for n in range(500):
            db.execute(
                'INSERT INTO messages (folder_id, uidl, message_id, "references", date, '
                "from_name, from_email, to_addrs, cc_addrs, subject, seen, answered, flagged, "
                "deleted, draft, forwarded, keywords, size, has_attachments, preview) VALUES "
                "(1, ?, ?, '', ?, 'Zoë', 'zoe@example.se', '', '', ?, "
                "0, 0, 0, 0, 0, 0, '', 10, 0, '')",
                (f"uidl-{n}", f"<{n}@x>", 1_700_000_000 + n, f"Subject number {n}"),
            )
            db.execute(
                "INSERT INTO message_bodies (message_pk, raw) VALUES (last_insert_rowid(), ?)",
                (f"Subject: Subject number {n}\r\n\r\nbody {n}\r\n".encode(),),
            )
        db.commit()
    migrate(path)
    assert current_revision(path) == head_revision()
    with sync_connection(path) as db:
        rows = db.execute(
            "SELECT m.uidl, m.subject, b.raw FROM messages m JOIN message_bodies b "
            "ON b.message_pk = m.id ORDER BY m.id"
        ).fetchall()
        assert [r[0] for r in rows] == [f"uidl-{n}" for n in range(500)]
        assert rows[123][2] == b"Subject: Subject number 123\r\n\r\nbody 123\r\n"
        # The new search index covers the old messages too.
        hits = db.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zoe'"
        ).fetchone()
        assert hits[0] == 500
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def insert_imap_rows(db: sqlite3.Connection, count: int, from_name: str = "") -> None:
    """An IMAP account "w" with an INBOX (id 1) holding ``count`` messages, in plain SQL."""
    db.execute("INSERT INTO accounts (id, name, kind, email) VALUES (1, 'w', 'imap', 'a@b')")
    db.execute(
        "INSERT INTO folders (id, account_id, name, subscribed, is_local, total_count, "
        "unread_count) VALUES (1, 1, 'INBOX', 1, 0, 0, 0)"
    )
    for n in range(count):
        db.execute(
            'INSERT INTO messages (folder_id, uid, message_id, "references", date, '
            "from_name, from_email, to_addrs, cc_addrs, subject, seen, answered, flagged, "
            "deleted, draft, forwarded, keywords, size, has_attachments, preview) VALUES "
            "(1, ?, ?, '', 0, ?, 'a@b', '', '', 's', 0, 0, 0, 0, 0, 0, '', 1, 0, '')",
            (n + 1, f"<{n}@x>", from_name),
        )


def downgrade(path: Path, revision: str) -> None:
    """Run Alembic's downgrade of the store at ``path`` to ``revision``."""
    from alembic import command

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def test_upgrade_to_0004_drops_the_unread_indexes_and_keeps_every_message(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    migrate(path, "0003")
    with sync_connection(path) as db:
        insert_imap_rows(db, 50)
        db.commit()

    def indexes() -> set[str]:
        with sync_connection(path) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        return {name for (name,) in rows}

    assert {"ix_messages_thread", "ix_messages_message_id"} <= indexes()
    migrate(path, "0004")
    assert not {"ix_messages_thread", "ix_messages_message_id"} & indexes()
    assert {"ix_messages_folder_date", "ix_messages_folder_uid", "ix_messages_folder_seen"} <= (
        indexes()
    )
    with sync_connection(path) as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 50
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_downgrade_from_0004_brings_the_indexes_back(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    migrate(path, "0004")
    downgrade(path, "0003")
    with sync_connection(path) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"ix_messages_thread", "ix_messages_message_id"} <= names


def test_downgrade_from_0005_indexes_what_waits(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    migrate(path)
    with sync_connection(path) as db:
        insert_imap_rows(db, 30, from_name="Zoë")
        db.execute("INSERT INTO messages_fts (rowid, subject) VALUES (1, 'already')")
        db.execute("INSERT INTO fts_pending (first_id, last_id) VALUES (1, 30)")
        db.commit()
    downgrade(path, "0004")
    with sync_connection(path) as db:
        assert db.execute("SELECT count(*) FROM messages_fts").fetchone()[0] == 30
        hits = db.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zoe'")
        assert hits.fetchone()[0] == 29, "message 1 kept the entry it had"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "fts_pending" not in tables
