"""Reads for telling the user about new mail: which folders were synced before, what arrived.

Like ``queries.py`` every function takes an ``AsyncSession`` from ``Store.session()``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.store.models import Folder, Message

# Mail turning up in these folders is the user's own doing or not worth a ping.
QUIET_ROLES = ("sent", "drafts", "trash", "junk", "archive")


@dataclass(frozen=True, slots=True)
class Arrival:
    """One unread message that came in: where, from whom, about what."""

    message_id: str  # the Message-ID header ("" when there is none)
    folder: str
    from_name: str
    from_email: str
    subject: str


async def synced_folders(session: AsyncSession, account_pk: int) -> frozenset[int]:
    """Folders of an account whose contents the store already mirrors: IMAP folders synced at
    least once, POP3 folders once the account holds any mail."""
    has_mail = (
        await session.scalar(
            select(Message.id)
            .join(Folder, Folder.id == Message.folder_id)
            .where(Folder.account_id == account_pk)
            .limit(1)
        )
        is not None
    )
    rows = await session.execute(
        select(Folder.id, Folder.is_local, Folder.uidvalidity).where(
            Folder.account_id == account_pk
        )
    )
    return frozenset(
        pk for pk, local, validity in rows if validity is not None or (local and has_mail)
    )


async def unread_arrivals(
    session: AsyncSession, account_pk: int, ids: tuple[int, int], folders: Collection[int]
) -> list[Arrival]:
    """Unread messages with ids in ``(ids[0], ids[1]]`` in ``folders`` (not in Sent, Drafts,
    Trash, Junk or Archive), newest first."""
    if not folders:
        return []
    rows = await session.execute(
        select(
            Message.message_id, Folder.name, Message.from_name, Message.from_email, Message.subject
        )
        .join(Folder, Folder.id == Message.folder_id)
        .where(
            Folder.account_id == account_pk,
            Folder.id.in_(list(folders)),
            (Folder.role.is_(None)) | (Folder.role.not_in(QUIET_ROLES)),
            Message.id > ids[0],
            Message.id <= ids[1],
            Message.seen.is_(False),
        )
        .order_by(func.coalesce(Message.internal_date, Message.date).desc(), Message.id.desc())
    )
    return [
        Arrival(mid or "", name, fname or "", femail or "", subj or "")
        for mid, name, fname, femail, subj in rows
    ]


async def header_ids(session: AsyncSession, ids: Sequence[int]) -> list[str]:
    """The Message-ID headers of messages ``ids`` (those that have one)."""
    if not ids:
        return []
    found = await session.scalars(select(Message.message_id).where(Message.id.in_(list(ids))))
    return [mid for mid in found if mid]
