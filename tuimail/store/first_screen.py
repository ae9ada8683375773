"""The first screen read with plain sqlite3: folders, the open folder's newest ids, its rows.

Importing SQLAlchemy and the services behind it takes longer than the rest of start-up; this
read lets the interface paint the index first and load them behind it. It reads only a store
at the schema head (anything older must be migrated by ``open_store`` first) and builds its
records with ``store.rows``, as the ORM path does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tuimail.store.files import SCHEMA_HEAD
from tuimail.store.records import FolderState, MessageRow
from tuimail.store.rows import (
    FOLDER_COLUMNS,
    MESSAGE_COLUMNS,
    folder_order,
    folder_record,
    message_row,
)


@dataclass(frozen=True, slots=True)
class FirstScreen:
    """What the store held at start: each configured account's folders, and the top of one.

    ``head`` is the newest ``limit`` ids of ``folder_id`` (the whole folder when it holds
    fewer); ``rows`` are their index rows by id.
    """

    accounts: tuple[tuple[str, tuple[FolderState, ...]], ...]
    folder_id: int | None
    head: tuple[int, ...]
    complete: bool  # head is the whole folder
    rows: dict[int, MessageRow]


def _namespace(cursor: sqlite3.Cursor, row: Sequence[Any]) -> SimpleNamespace:
    names = [column[0] for column in cursor.description]
    return SimpleNamespace(**dict(zip(names, row, strict=True)))


def read_first_screen(path: Path, accounts: Iterable[str], limit: int) -> FirstScreen | None:
    """The first screen of the store at ``path``, or None if it is missing, older or unreadable.

    The folder is the first account's Inbox (else its first folder), as the interface opens.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    except sqlite3.Error:
        return None
    try:
        connection.row_factory = _namespace
        return _read(connection, tuple(accounts), limit)
    except sqlite3.Error:
        return None  # damaged or locked: open_store will say what is wrong
    finally:
        connection.close()


def _read(connection: sqlite3.Connection, names: tuple[str, ...], limit: int) -> FirstScreen | None:
    revision = connection.execute("SELECT version_num AS v FROM alembic_version").fetchone()
    if revision is None or revision.v != SCHEMA_HEAD:
        return None
    listed = []
    for name in names:
        account = connection.execute("SELECT id FROM accounts WHERE name = ?", (name,)).fetchone()
        folders: tuple[FolderState, ...] = ()
        if account is not None:
            found = connection.execute(
                f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id = ?", (account.id,)
            )
            folders = tuple(sorted((folder_record(f) for f in found), key=folder_order))
        listed.append((name, folders))
    first = next((folders for _, folders in listed if folders), ())
    folder = next((f for f in first if f.role == "inbox"), first[0] if first else None)
    if folder is None:
        return FirstScreen(tuple(listed), None, (), True, {})
    head = [
        row.id
        for row in connection.execute(
            "SELECT id FROM messages WHERE folder_id = ? ORDER BY date DESC, id DESC LIMIT ?",
            (folder.id, limit),
        )
    ]
    marks = ",".join("?" * len(head))
    found_rows = connection.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({marks})", head
    )
    rows = {row.id: message_row(row) for row in found_rows}
    return FirstScreen(tuple(listed), folder.id, tuple(head), len(head) < limit, rows)
