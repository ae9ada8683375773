"""The store's file before SQLAlchemy: its schema revision and the one-writer lock.

Plain standard library, so the interface can take the lock and read its first screen
(``store.first_screen``) before the ORM is imported.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

from tuimail.errors import StoreError

# The newest migration; tests/store/test_db.py checks it against the scripts. Knowing it lets
# an up-to-date store open without importing Alembic at all.
SCHEMA_HEAD = "0007"


def stored_revision(path: Path) -> str | None:
    """The schema revision recorded in the file, read with plain sqlite3 (None if none)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return None  # not a store yet, or damaged: migrate() says which
    return str(row[0]) if row else None


class StoreBusy(StoreError):
    """Another tuimail process holds the store's lock."""


def lock_store(path: Path) -> int:
    """Hold an exclusive lock beside the store so a second writer refuses cleanly."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise StoreBusy(
            f"another tuimail (pid {holder}) is using {path.parent}; "
            "close it first (read-only commands such as `tuimail list` still work)"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
