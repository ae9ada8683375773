"""Opening the store: one SQLite file, WAL, foreign keys, full fsync, migrations, one writer.

``synchronous=FULL`` is set for every connection rather than per table: SQLite decides it per
connection, POP3 mail and the outbox are the only copy of what they hold, and with batched
transactions the cost is one fsync per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from tuimail.errors import StoreError
from tuimail.store.files import SCHEMA_HEAD, lock_store, stored_revision

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # A 32 MB page cache and checkpoints every 32 MB of WAL: a 100k-message first sync spends
    # half its database time in checkpoints at the default (4 MB).
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.execute("PRAGMA wal_autocheckpoint=8192")
    cursor.close()


def _set_readonly_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" listener sends BEGIN


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config that runs the migrations shipped inside the package."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(path: Path, revision: str = "head") -> None:
    """Bring the database at ``path`` to ``revision`` (creating it with mode 0600)."""
    if revision == "head" and _holds_nothing(path):
        create_at_head(path)  # a new store: the newest schema at once, no migrations to run
        return
    # Alembic is imported here, not at the top: it costs a quarter of a second at start-up.
    from alembic import command

    _create_private_file(path)
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _set_pragmas)
    # The whole upgrade is one transaction: pysqlite would otherwise commit each CREATE on its
    # own, and a kill during the first start would leave half a schema that never opens again.
    event.listen(engine, "connect", _driver_autocommit)
    event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    try:
        with engine.begin() as connection:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except (sqlite3.DatabaseError, DBAPIError) as exc:
        detail = exc.orig if isinstance(exc, DBAPIError) else exc
        raise StoreError(f"{path}: cannot open the mail store: {detail}") from None
    finally:
        engine.dispose()


def create_at_head(path: Path) -> None:
    """Create a new store at the newest schema (``store.schema``), in one transaction."""
    from tuimail.store import schema

    _create_private_file(path)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        _set_pragmas(connection, None)
        connection.execute("BEGIN")
        try:
            for statement in schema.STATEMENTS:
                connection.execute(statement)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot create the mail store: {exc}") from None
    finally:
        connection.close()


def _holds_nothing(path: Path) -> bool:
    """True for a missing file, one that is no database yet, or one without a single table."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables: int = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            return tables == 0
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return False  # not a database: the migration says so in its own words


def current_revision(path: Path) -> str | None:
    """The schema revision of the database at ``path`` (None for an empty file)."""
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest schema revision this version of tuimail knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # SQLite gives its -wal and -shm files the database file's permissions, so creating the
    # database 0600 keeps all three private.
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


@dataclass
class Store:
    """An open store: an async engine and a session factory; close() when done."""

    path: Path
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    readonly: bool
    _lock_fd: int | None = field(default=None, repr=False)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed on success and rolled back on error.

        A disk that is full or failing becomes one StoreError; the transaction is rolled back,
        so the store holds what was committed before.
        """
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            reason = str(exc.orig).lower()
            if "full" in reason or "disk i/o" in reason or "no space" in reason:
                raise StoreError(
                    f"cannot write the store {self.path}: the disk is full or failing "
                    f"({exc.orig}); nothing uncommitted was kept"
                ) from exc
            raise

    async def close(self) -> None:
        await self.engine.dispose()
        # A connection dropped by a cancelled query (a worker stopped at quit) is closed by a
        # task of SQLAlchemy's that can outlive its driver thread; left pending, it would hang
        # the event loop's shutdown for ever.
        for task in asyncio.all_tasks():
            if "_terminate_graceful_close" in repr(task.get_coro()):
                task.cancel()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


async def open_store(path: Path, *, readonly: bool = False, lock_fd: int | None = None) -> Store:
    """Open (and migrate) the store at ``path``; readonly opens never write or lock.

    ``lock_fd`` is the store's lock (``files.lock_store``) when the caller already holds it;
    the store closes it with itself, and on a failure to open.
    """
    if readonly:
        if not path.exists():
            raise StoreError(f"{path}: no mail store yet; run `tuimail sync` first")
        engine = create_async_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
        event.listen(engine.sync_engine, "connect", _set_readonly_pragmas)
        return Store(path, engine, async_sessionmaker(engine, expire_on_commit=False), True)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if lock_fd is None:
        lock_fd = lock_store(path)
    try:
        if stored_revision(path) != SCHEMA_HEAD:
            migrate(path)
    except BaseException:
        os.close(lock_fd)
        raise
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    event.listen(engine.sync_engine, "connect", _set_pragmas)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return Store(path, engine, sessions, False, lock_fd)


@contextlib.contextmanager
def sync_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection with the store's pragmas, for tools and tests."""
    connection = sqlite3.connect(path)
    _set_pragmas(connection, None)
    try:
        yield connection
    finally:
        connection.close()
