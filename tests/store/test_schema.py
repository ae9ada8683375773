"""A new store is created from ``store.schema`` at once; it must be what the migrations build.

When a migration is added, these tests fail; write the module anew with
``python -m tests.store.test_schema > tuimail/store/schema.py && ruff format tuimail/store``.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

from tuimail.store import schema
from tuimail.store.db import create_at_head, migrate, open_store
from tuimail.store.files import SCHEMA_HEAD, stored_revision

HEADER = '''"""The store's schema at its newest revision, for creating a new store without Alembic.

Running the migrations one after another took 35-60 ms for each new store (a first start,
every store a test or a benchmark makes); these statements take a few. They are what the
migrations leave in ``sqlite_master`` (FTS5 shadow tables and automatic indexes come with their
owners), in the order they were created, and the rows the migrations seed.
``tests/store/test_schema.py`` checks them against the migrations and writes this file anew:
``python -m tests.store.test_schema > tuimail/store/schema.py && ruff format tuimail/store``.
"""

from __future__ import annotations

'''


def _statements(connection: sqlite3.Connection) -> list[str]:
    found = [
        sql
        for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND NOT (type = 'table' AND name GLOB 'messages_fts_*') ORDER BY rowid"
        )
    ]
    tables = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND NOT name GLOB 'messages_fts*' ORDER BY rowid"
    ).fetchall()
    for (table,) in tables:
        columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
        quoted = ", ".join(f'quote("{column}")' for column in columns)
        for values in connection.execute(f'SELECT {quoted} FROM "{table}"'):
            names, literals = ", ".join(columns), ", ".join(values)
            found.append(f"INSERT INTO {table} ({names}) VALUES ({literals})")
    return found


def _literal(sql: str) -> str:
    """``sql`` as Python source: one string, or implicitly joined pieces of up to 80 chars."""
    pieces: list[str] = []
    for line in sql.split("\n"):
        while len(line) > 80 and " " in line[:80]:
            cut = line.rfind(" ", 0, 80) + 1
            pieces.append(line[:cut])
            line = line[cut:]
        pieces.append(line + "\n")
    pieces[-1] = pieces[-1][:-1]
    if len(pieces) == 1:
        return f"    {json.dumps(pieces[0])},"
    return "    (\n" + "".join(f"        {json.dumps(p)}\n" for p in pieces) + "    ),"


def migrated_statements() -> list[str]:
    """The statements that build what the migrations build today, seeded rows included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "migrated.sqlite3"
        migrate(path, SCHEMA_HEAD)  # by name, not "head": through every migration
        connection = sqlite3.connect(path)
        try:
            return _statements(connection)
        finally:
            connection.close()


def render() -> str:
    """The source of ``tuimail/store/schema.py`` (before ruff format) for today's migrations."""
    body = "\n".join(_literal(sql) for sql in migrated_statements())
    return f'{HEADER}REVISION = "{SCHEMA_HEAD}"\n\nSTATEMENTS: tuple[str, ...] = (\n{body}\n)\n'


def _contents(path: Path) -> tuple[list[tuple[str, ...]], dict[str, list[tuple[object, ...]]]]:
    """Everything in a store: its schema objects and the rows of every table, FTS5's too."""
    connection = sqlite3.connect(path)
    try:
        objects = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        rows = {
            name: sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for (_type, name, _table, _sql) in objects
            if _type == "table" and name != "messages_fts"
        }
    finally:
        connection.close()
    return objects, rows


def test_the_schema_module_is_what_the_migrations_build_today() -> None:
    expected = (SCHEMA_HEAD, tuple(migrated_statements()))
    assert expected == (schema.REVISION, schema.STATEMENTS), __doc__


def test_a_store_created_at_head_equals_a_migrated_one(tmp_path: Path) -> None:
    migrated, created = tmp_path / "migrated.sqlite3", tmp_path / "created.sqlite3"
    migrate(migrated, SCHEMA_HEAD)
    create_at_head(created)
    assert _contents(created) == _contents(migrated)
    assert stored_revision(created) == SCHEMA_HEAD


async def test_a_new_store_opens_at_head_and_an_old_one_still_migrates(tmp_path: Path) -> None:
    new = await open_store(tmp_path / "new" / "mail.sqlite3")
    await new.close()
    assert stored_revision(new.path) == SCHEMA_HEAD
    old_path = tmp_path / "old" / "mail.sqlite3"
    migrate(old_path, "0001")
    old = await open_store(old_path)
    await old.close()
    assert stored_revision(old_path) == SCHEMA_HEAD
    assert _contents(old_path)[0] == _contents(new.path)[0]


if __name__ == "__main__":
    print(render(), end="")
