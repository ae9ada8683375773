"""Read a test's store as the user would judge it: where each message is and its flags."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from tuimail.store import queries
from tuimail.store.db import open_store

# message id -> (folder id, seen, flagged)
MessageStates = dict[int, tuple[int, bool, bool]]


def message_states(path: Path) -> MessageStates:
    """Every message's folder and flags, read straight from the file (read-only, no ORM)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT id, folder_id, seen, flagged FROM messages").fetchall()
    finally:
        connection.close()
    return {pk: (folder, bool(seen), bool(flagged)) for pk, folder, seen, flagged in rows}


def folder_ids(path: Path) -> dict[str, int]:
    """Folder ids by name."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT name, id FROM folders").fetchall())
    finally:
        connection.close()


def changed(before: MessageStates, after: MessageStates) -> set[int]:
    """Ids of the messages that moved, changed flags or went away."""
    return {pk for pk, state in before.items() if after.get(pk) != state}


async def add_local_folders(path: Path, account: str, names: Sequence[str]) -> None:
    """Local folders for an account (POP3 keeps its own: Archive, lists...), "/"-separated."""
    store = await open_store(path)
    try:
        async with store.session() as session:
            pk = await queries.account_id(session, account)
            for name in names:
                await queries.ensure_folder(
                    session, pk, name, delimiter="/" if "/" in name else None, is_local=True
                )
    finally:
        await store.close()
