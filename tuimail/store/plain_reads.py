"""The command line's reads with plain sqlite3: a folder, its newest rows, one stored body.

``tuimail list`` and ``tuimail read`` are for scripts, which start them often; importing
SQLAlchemy costs several times what the read itself does. Like ``store.first_screen`` these
reads take only a store at the schema head (``open_plain`` gives None for any other, and the
caller reads through the ORM as before), ask what ``store.queries`` asks, and build their
records with ``store.rows``, so both paths print the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tuimail.errors import MessageNotFound, StoreError
from tuimail.store.files import SCHEMA_HEAD
from tuimail.store.records import FolderState, MessageRow
from tuimail.store.rows import (
    FOLDER_COLUMNS,
    MESSAGE_COLUMNS,
    folder_order,
    folder_record,
    message_row,
)

# As long as store.db waits (BUSY_TIMEOUT_MS) for a writer's checkpoint to finish.
BUSY_TIMEOUT_S = 10.0


def _namespace(cursor: sqlite3.Cursor, row: Sequence[Any]) -> SimpleNamespace:
    names = [column[0] for column in cursor.description]
    return SimpleNamespace(**dict(zip(names, row, strict=True)))


@contextmanager
def open_plain(path: Path) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection to the store at ``path``; None if it is not at the schema head.

    A missing store is a StoreError, as ``open_store(readonly=True)`` says it; so is a failed read.
    """
    if not path.exists():
        raise StoreError(f"{path}: no mail store yet; run `tuimail sync` first")
    uri = f"{path.absolute().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        connection = None
    try:
        yield connection if connection is not None and _at_head(connection) else None
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot read the mail store: {exc}") from None
    finally:
        if connection is not None:
            connection.close()


def _at_head(connection: sqlite3.Connection) -> bool:
    connection.row_factory = _namespace
    try:
        found = connection.execute("SELECT version_num AS v FROM alembic_version").fetchone()
    except sqlite3.Error:
        return False  # not a store, or damaged: the ORM's open says which, in its words
    return found is not None and found.v == SCHEMA_HEAD


def folder_by_name(connection: sqlite3.Connection, account_name: str, name: str) -> FolderState:
    """The folder ``name`` of ``account_name`` (case-insensitive for INBOX), as queries finds it."""
    account = connection.execute(
        "SELECT id FROM accounts WHERE name = ?", (account_name,)
    ).fetchone()
    if account is None:
        raise MessageNotFound(
            f"account {account_name!r} has no mail in the store yet; run `tuimail sync`"
        )
    found = connection.execute(
        f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id = ?", (account.id,)
    )
    for folder in sorted((folder_record(f) for f in found), key=folder_order):
        if folder.name == name or (name.upper() == "INBOX" and folder.role == "inbox"):
            return folder
    raise MessageNotFound(f"no folder {name!r} in account {account_name!r}")


def list_messages(
    connection: sqlite3.Connection, folder_pk: int, *, limit: int | None = None
) -> list[MessageRow]:
    """A folder's messages newest first (``limit`` of them, or all)."""
    found = connection.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = ? "
        "ORDER BY date DESC, id DESC LIMIT ?",
        (folder_pk, -1 if limit is None else limit),
    )
    return [message_row(row) for row in found]


def message_by_uid(connection: sqlite3.Connection, folder: FolderState, uid: int) -> MessageRow:
    """The message with IMAP ``uid`` (or local id, in a local folder) in ``folder``."""
    column = "id" if folder.is_local else "uid"
    found = connection.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE folder_id = ? AND {column} = ?",
        (folder.id, uid),
    ).fetchone()
    if found is None:
        raise MessageNotFound(f"no message {uid} in this folder")
    return message_row(found)


def get_body(connection: sqlite3.Connection, message_pk: int) -> bytes | None:
    """The stored bytes of a message, or None when only its headers are known."""
    found = connection.execute(
        "SELECT raw FROM message_bodies WHERE message_pk = ?", (message_pk,)
    ).fetchone()
    return None if found is None else bytes(found.raw)


def account_folders(connection: sqlite3.Connection, account_name: str) -> list[FolderState] | None:
    """Every folder the store keeps for ``account_name``; None when the account is not in it."""
    account = connection.execute(
        "SELECT id FROM accounts WHERE name = ?", (account_name,)
    ).fetchone()
    if account is None:
        return None
    found = connection.execute(
        f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id = ?", (account.id,)
    )
    return [folder_record(f) for f in found]


def sync_work_left(
    connection: sqlite3.Connection,
    account_pks: Sequence[int],
    folder_pks: Sequence[int],
    body_folder_pks: Sequence[int],
) -> str | None:
    """What a sync pass would do whatever the server says, or None: actions queued for the
    accounts, rows moved into the folders offline, messages waiting for the search index, and
    bodies not yet downloaded in ``body_folder_pks`` (accounts with offline = "full")."""
    marks = ", ".join("?" * len(account_pks))
    queued = f"SELECT 1 FROM pending_actions WHERE account_id IN ({marks})"
    checks: list[tuple[str, str, Sequence[int]]] = [
        ("queued actions", queued, account_pks),
        ("messages to index for search", "SELECT 1 FROM fts_pending", ()),
        ("bodies to index for search", "SELECT 1 FROM body_pending", ()),
    ]
    checks += [
        ("rows moved offline", "SELECT 1 FROM messages WHERE folder_id = ? AND uid IS NULL", (pk,))
        for pk in folder_pks
    ]
    checks += [
        (
            "bodies to download",
            "SELECT 1 FROM messages m WHERE m.folder_id = ? AND m.uid IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM message_bodies b WHERE b.message_pk = m.id)",
            (pk,),
        )
        for pk in body_folder_pks
    ]
    for reason, query, values in checks:
        if connection.execute(query + " LIMIT 1", tuple(values)).fetchone() is not None:
            return reason
    return None
