"""The extra reads and writes the reading interface needs, beside those of ``queries.py``.

Like ``queries.py`` every function takes an ``AsyncSession`` from ``Store.session()``; the index
reads here run once per folder open (ids, thread inputs), never once per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.mail.threads import ThreadInput
from tuimail.store.models import Folder, Message, OutboxEntry
from tuimail.store.records import from_timestamp


async def ordered_ids(session: AsyncSession, folder_pk: int, limit: int = -1) -> list[int]:
    """A folder's message ids (all, or the newest ``limit``), newest first, read straight off
    the (folder, date) index.

    A plain SQL read: for a 100k folder the ORM's per-row work would cost more than the query.
    """
    result = await session.execute(
        text("SELECT id FROM messages WHERE folder_id = :f ORDER BY date DESC, id DESC LIMIT :n"),
        {"f": folder_pk, "n": limit},
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
    return thread_input_rows(result)


def thread_input_rows(rows: Iterable[Sequence[Any]]) -> list[ThreadInput]:
    """Thread inputs from rows of ``id, message_id, in_reply_to, "references", subject, date``."""
    return [
        ThreadInput(
            key=pk,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=tuple(references.split()) if references else (),
            subject=subject or "",
            date=from_timestamp(date),
        )
        for pk, message_id, in_reply_to, references, subject, date in rows
    ]


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


async def drafts_folder_ids(session: AsyncSession, account_pk: int, limit: int) -> list[int]:
    """The newest ``limit`` message ids of the account's Drafts folder (none without one)."""
    folder_pk = await session.scalar(
        select(Folder.id).where(Folder.account_id == account_pk, Folder.role == "drafts")
    )
    return [] if folder_pk is None else await ordered_ids(session, folder_pk, limit)
