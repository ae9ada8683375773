"""A search query tree -> message ids, newest first: FTS5 for words, SQL for the rest.

Words and phrases in subject, body or anywhere go to the FTS5 index (``messages_fts``), each
as one quoted FTS5 string, so nothing the user types is read as FTS5 syntax. ``from:`` and
``to:`` match the stored address columns (name or address, case-insensitive substring).
Dates compare the Date header with midnight UTC of the given day.

Messages stored from their headers alone (an IMAP sync) are indexed after the sync, not in
its transactions: each inserted batch leaves its id range in ``fts_pending``, and
``index_pending`` indexes those from the stored columns. ``search`` runs it first, so a search
never misses a stored message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import count

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.mail.query import And, DateBound, HasFlag, Not, Or, Query, Text

# The index's columns, from a message's stored columns; only the body text comes from outside.
_INDEX_COLUMNS = (
    "INSERT INTO messages_fts (rowid, subject, addresses, body) SELECT id, subject, "
    "from_name || ' ' || from_email || ' ' || to_addrs || ' ' || cc_addrs, "
)
# A pending range, skipping any message already indexed (set_body indexes one at once) and
# any whose downloaded body waits in body_pending: that indexes it whole, and its header row
# would only be written to be deleted again (a search indexes waiting bodies first).
_INDEX_RANGE = (
    _INDEX_COLUMNS + "preview FROM messages WHERE id BETWEEN ?1 AND ?2 "
    "AND id NOT IN (SELECT rowid FROM messages_fts WHERE rowid BETWEEN ?1 AND ?2) "
    "AND id NOT IN (SELECT message_pk FROM body_pending WHERE message_pk BETWEEN ?1 AND ?2)"
)
_INDEX_ONE = _INDEX_COLUMNS + "coalesce(?, preview) FROM messages WHERE id = ?"


async def index_messages(session: AsyncSession, bodies: Sequence[tuple[int, str | None]]) -> None:
    """Index messages ``(id, body text)`` now; a body of None indexes the preview instead.

    A message must not be in the index already (``set_body`` takes it out first).
    """
    connection = await session.connection()
    await connection.exec_driver_sql(_INDEX_ONE, [(body, pk) for pk, body in bodies])


async def index_pending(session: AsyncSession, batches: int = -1) -> int:
    """Index the messages of up to ``batches`` pending batches (-1: all); how many it took.

    About 7 ms per 1,000 messages. A message deleted meanwhile is simply not found, and one
    whose id came back for a newer message is indexed once, as that message.
    """
    connection = await session.connection()
    result = await connection.exec_driver_sql(
        "SELECT id, first_id, last_id FROM fts_pending ORDER BY id LIMIT ?", (batches,)
    )
    pending: list[tuple[int, ...]] = [tuple(row) for row in result]
    for _pk, first, last in pending:
        await connection.exec_driver_sql(_INDEX_RANGE, (first, last))
    if pending:
        await connection.exec_driver_sql("DELETE FROM fts_pending WHERE id <= ?", (pending[-1][0],))
    return len(pending)


_FLAG_SQL = {
    "unread": "m.seen = 0",
    "read": "m.seen = 1",
    "flagged": "m.flagged = 1",
    "attachment": "m.has_attachments = 1",
}
_FTS_COLUMN = {"subject": "subject", "body": "body"}


def fts_string(value: str, *, prefix: bool) -> str:
    """``value`` as one FTS5 string (a phrase), quotes doubled; ``prefix`` adds ``*``."""
    quoted = '"' + value.replace('"', '""') + '"'
    return quoted + " *" if prefix else quoted


def like_pattern(value: str) -> str:
    """A LIKE pattern for ``value`` anywhere, with ``%``, ``_`` and ``\\`` escaped."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _Sql:
    """Builds one WHERE clause with numbered parameters."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}
        self._names = count()

    def _param(self, value: object) -> str:
        name = f"p{next(self._names)}"
        self.params[name] = value
        return f":{name}"

    def where(self, query: Query) -> str:
        if isinstance(query, And):
            return "(" + " AND ".join(self.where(t) for t in query.terms) + ")"
        if isinstance(query, Or):
            return "(" + " OR ".join(self.where(t) for t in query.terms) + ")"
        if isinstance(query, Not):
            return f"(NOT {self.where(query.term)})"
        if isinstance(query, HasFlag):
            return _FLAG_SQL[query.flag]
        if isinstance(query, DateBound):
            moment = datetime(query.day.year, query.day.month, query.day.day, tzinfo=UTC)
            operator = "<" if query.side == "before" else ">="
            return f"m.date {operator} {self._param(int(moment.timestamp()))}"
        return self._text(query)

    def _text(self, query: Text) -> str:
        if query.field in ("from", "to"):
            pattern = self._param(like_pattern(query.value))
            columns = ("m.from_name", "m.from_email")
            if query.field == "to":
                columns = ("m.to_addrs", "m.cc_addrs")
            return "(" + " OR ".join(f"{c} LIKE {pattern} ESCAPE '\\'" for c in columns) + ")"
        match = fts_string(query.value, prefix=not query.phrase)
        column = _FTS_COLUMN.get(query.field)
        if column is not None:
            match = f"{column} : {match}"
        return (
            "m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH "
            f"{self._param(match)})"
        )


async def search(
    session: AsyncSession, query: Query, folder_pk: int | None = None, limit: int = 10_000
) -> list[int]:
    """Ids of the messages matching ``query``, newest first, optionally in one folder."""
    await index_pending(session)
    connection = await session.connection()
    waiting = await connection.exec_driver_sql("SELECT 1 FROM body_pending LIMIT 1")
    if waiting.first() is not None:
        # Imported here, and only when bodies wait: body_index_queries builds on this module's
        # index_messages, and reading message text loads the MIME and HTML readers (77 ms of
        # a first search's 170 ms on a store with nothing waiting).
        from tuimail.store.body_index_queries import index_waiting_bodies

        await index_waiting_bodies(session)
    sql = _Sql()
    where = sql.where(query)
    if folder_pk is not None:
        where += f" AND m.folder_id = {sql._param(folder_pk)}"
    statement = (
        f"SELECT m.id FROM messages m WHERE {where} "
        f"ORDER BY m.date DESC, m.id DESC LIMIT {sql._param(limit)}"
    )
    return [int(row[0]) for row in await session.execute(text(statement), sql.params)]
