"""A search query tree -> message ids, newest first: FTS5 for words, SQL for the rest.

Words and phrases in subject, body or anywhere go to the FTS5 index (``messages_fts``), each
as one quoted FTS5 string, so nothing the user types is read as FTS5 syntax. ``from:`` and
``to:`` match the stored address columns (name or address, case-insensitive substring).
Dates compare the Date header with midnight UTC of the given day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.mail.query import And, DateBound, HasFlag, Not, Or, Query, Text

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
    sql = _Sql()
    where = sql.where(query)
    if folder_pk is not None:
        where += f" AND m.folder_id = {sql._param(folder_pk)}"
    statement = (
        f"SELECT m.id FROM messages m WHERE {where} "
        f"ORDER BY m.date DESC, m.id DESC LIMIT {sql._param(limit)}"
    )
    return [int(row[0]) for row in await session.execute(text(statement), sql.params)]
