"""The extra reads and writes the reading interface needs, beside those of ``queries.py``.

Like ``queries.py`` every function takes an ``AsyncSession`` from ``Store.session()``; the index
reads here run once per folder open (ids, thread inputs), never once per line.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.mail.threads import ThreadInput
from tuimail.store.models import Folder, Message, OutboxEntry
from tuimail.store.queries import ensure_folder, refresh_counts
from tuimail.store.records import from_timestamp

# Columns a copy takes over unchanged; uid and uidl stay empty because a copy was never on a
# server and must not be mistaken for the POP3 download it came from.
_COPIED_COLUMNS = (
    "message_id",
    "in_reply_to",
    '"references"',
    "thread_id",
    "date",
    "internal_date",
    "from_name",
    "from_email",
    "to_addrs",
    "cc_addrs",
    "subject",
    "seen",
    "answered",
    "flagged",
    "deleted",
    "draft",
    "forwarded",
    "keywords",
    "size",
    "has_attachments",
    "preview",
)


async def ordered_ids(session: AsyncSession, folder_pk: int) -> list[int]:
    """Every message id of a folder, newest first, read straight off the (folder, date) index.

    A plain SQL read: for a 100k folder the ORM's per-row work would cost more than the query.
    """
    result = await session.execute(
        text("SELECT id FROM messages WHERE folder_id = :f ORDER BY date DESC, id DESC"),
        {"f": folder_pk},
    )
    return [row[0] for row in result]


async def thread_inputs(session: AsyncSession, folder_pk: int) -> list[ThreadInput]:
    """What threading needs to know about every message of a folder."""
    result = await session.execute(
        text(
            'SELECT id, message_id, in_reply_to, "references", subject, date '
            "FROM messages WHERE folder_id = :f"
        ),
        {"f": folder_pk},
    )
    return [
        ThreadInput(
            key=pk,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=tuple(references.split()) if references else (),
            subject=subject or "",
            date=from_timestamp(date),
        )
        for pk, message_id, in_reply_to, references, subject, date in result
    ]


async def message_folders(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    """The folder of each message in ``ids`` (missing ids are left out)."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Message.id, Message.folder_id).where(Message.id.in_(list(ids)))
    )
    return {pk: folder_pk for pk, folder_pk in rows}


async def trash_folder(session: AsyncSession, account_pk: int) -> int:
    """The account's Trash (role ``trash``), created as a local folder when it has none."""
    found = await session.scalar(
        select(Folder.id).where(Folder.account_id == account_pk, Folder.role == "trash")
    )
    if found is not None:
        return found
    return await ensure_folder(session, account_pk, "Trash", role="trash", is_local=True)


async def expunge_messages(session: AsyncSession, ids: Sequence[int]) -> None:
    """Delete messages for good (bodies and search rows go with them) and recount."""
    folders = set((await message_folders(session, ids)).values())
    await session.execute(delete(Message).where(Message.id.in_(list(ids))))
    for folder_pk in folders:
        await refresh_counts(session, folder_pk)


async def copy_messages(session: AsyncSession, ids: Sequence[int], target_pk: int) -> list[int]:
    """Copy messages (row, bytes and search text) into a local folder; returns the new ids."""
    columns = ", ".join(_COPIED_COLUMNS)
    new_ids: list[int] = []
    for pk in ids:
        result = await session.execute(
            text(
                f"INSERT INTO messages (folder_id, {columns}) "
                f"SELECT :target, {columns} FROM messages WHERE id = :id RETURNING id"
            ),
            {"target": target_pk, "id": pk},
        )
        new_pk = result.scalar_one_or_none()
        if new_pk is None:
            continue
        params = {"new": new_pk, "old": pk}
        await session.execute(
            text(
                "INSERT INTO message_bodies (message_pk, raw) "
                "SELECT :new, raw FROM message_bodies WHERE message_pk = :old"
            ),
            params,
        )
        await session.execute(
            text(
                "INSERT INTO messages_fts (rowid, subject, addresses, body) "
                "SELECT :new, subject, addresses, body FROM messages_fts WHERE rowid = :old"
            ),
            params,
        )
        new_ids.append(int(new_pk))
    await refresh_counts(session, target_pk)
    return new_ids


async def newest_message_id(session: AsyncSession, account_pk: int) -> int:
    """The highest message id in an account (0 for none): a mark to count new mail from."""
    found = await session.scalar(
        select(func.max(Message.id))
        .join(Folder, Folder.id == Message.folder_id)
        .where(Folder.account_id == account_pk)
    )
    return int(found or 0)


async def unseen_since(session: AsyncSession, account_pk: int, after_pk: int) -> int:
    """How many unread messages arrived in an account after message id ``after_pk``."""
    found = await session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Folder, Folder.id == Message.folder_id)
        .where(Folder.account_id == account_pk, Message.id > after_pk, Message.seen.is_(False))
    )
    return int(found or 0)


async def outbox_count(session: AsyncSession) -> int:
    """Messages in the outbox that are not yet sent (queued, sending or failed)."""
    found = await session.scalar(
        select(func.count()).select_from(OutboxEntry).where(OutboxEntry.status != "sent")
    )
    return int(found or 0)
