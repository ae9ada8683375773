"""The reads behind the virtual folders (``store.virtual_folders``): their order and threads.

The order of All inboxes is each Inbox's newest messages read off its own (folder, date, id)
index and merged by date, so its first screen costs what one folder's does however big the
union is. Like ``ui_queries`` these are plain SQL: the ORM's per-row work would cost more.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.mail.threads import ThreadInput
from tuimail.store.ui_queries import thread_input_rows
from tuimail.store.virtual_folders import EXCLUDED_ROLES, VirtualKind

# Which messages of a member folder belong to each virtual folder.
_MATCHES: dict[VirtualKind, str] = {"inboxes": "1", "unread": "seen = 0", "flagged": "flagged = 1"}


async def member_folders(session: AsyncSession, kind: VirtualKind) -> list[int]:
    """The ids of the stored folders a virtual folder is made of, in every account."""
    if kind == "inboxes":
        found = await session.execute(text("SELECT id FROM folders WHERE role = 'inbox'"))
    else:
        excluded = ", ".join(f"'{role}'" for role in sorted(EXCLUDED_ROLES))
        found = await session.execute(
            text(f"SELECT id FROM folders WHERE role IS NULL OR role NOT IN ({excluded})")
        )
    return sorted(row[0] for row in found)


async def virtual_ids(session: AsyncSession, kind: VirtualKind, limit: int = -1) -> list[int]:
    """A virtual folder's message ids (all, or the newest ``limit``), newest first, as one
    folder's are ordered (date, then id).

    Each member folder is read newest first through its own index, at most ``limit`` rows,
    and the reads are merged: the newest ``limit`` of the union are among them.
    """
    folders = await member_folders(session, kind)
    if not folders:
        return []
    match = _MATCHES[kind]
    parts = [
        f"SELECT id, date FROM (SELECT id, date FROM messages WHERE folder_id = :f{n} "
        f"AND {match} ORDER BY date DESC, id DESC LIMIT :n)"
        for n in range(len(folders))
    ]
    sql = " UNION ALL ".join(parts) + " ORDER BY date DESC, id DESC LIMIT :n"
    values: dict[str, int] = {f"f{n}": pk for n, pk in enumerate(folders)}
    values["n"] = limit
    result = await session.execute(text(sql), values)
    return [row[0] for row in result]


async def virtual_thread_inputs(session: AsyncSession, kind: VirtualKind) -> list[ThreadInput]:
    """What threading needs to know about every message of a virtual folder."""
    folders = await member_folders(session, kind)
    if not folders:
        return []
    marks = ", ".join(f":f{n}" for n in range(len(folders)))
    result = await session.execute(
        text(
            'SELECT id, message_id, in_reply_to, "references", subject, date FROM messages '
            f"WHERE folder_id IN ({marks}) AND {_MATCHES[kind]}"
        ),
        {f"f{n}": pk for n, pk in enumerate(folders)},
    )
    return thread_input_rows(result)
