"""The offline action queue: changes made in the store first, replayed on the server later."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.store.models import Message, PendingAction


@dataclass(frozen=True, slots=True)
class QueuedAction:
    """One change waiting for the server."""

    id: int
    folder_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


async def queue_action(
    session: AsyncSession, account_pk: int, folder_pk: int, kind: str, payload: dict[str, Any]
) -> int:
    """Append an action to the account's queue (replayed in order)."""
    action = PendingAction(
        account_id=account_pk,
        folder_id=folder_pk,
        kind=kind,
        payload=json.dumps(payload),
        created_at=int(time.time()),
        attempts=0,
        last_error="",
    )
    session.add(action)
    await session.flush()
    return action.id


async def pending_actions(session: AsyncSession, account_pk: int) -> list[QueuedAction]:
    """The account's queued actions, oldest first."""
    rows = await session.scalars(
        select(PendingAction)
        .where(PendingAction.account_id == account_pk)
        .order_by(PendingAction.id)
    )
    return [
        QueuedAction(a.id, a.folder_id, a.kind, json.loads(a.payload), a.attempts) for a in rows
    ]


async def pending_uids(session: AsyncSession, folder_pk: int) -> set[int]:
    """UIDs of a folder that queued actions still name (moved, deleted or changed here)."""
    payloads = await session.scalars(
        select(PendingAction.payload).where(PendingAction.folder_id == folder_pk)
    )
    return {int(uid) for payload in payloads for uid in json.loads(payload).get("uids", [])}


async def count_pending(session: AsyncSession) -> int:
    """How many actions wait for a server, over all accounts."""
    return len((await session.scalars(select(PendingAction.id))).all())


async def finish_action(session: AsyncSession, action_pk: int) -> None:
    """Remove an action that was applied (or dropped)."""
    await session.execute(delete(PendingAction).where(PendingAction.id == action_pk))


async def fail_action(session: AsyncSession, action_pk: int, error: str) -> None:
    """Count a failed attempt (the action stays queued)."""
    await session.execute(
        update(PendingAction)
        .where(PendingAction.id == action_pk)
        .values(attempts=PendingAction.attempts + 1, last_error=error)
    )


async def uids_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
    """folder id -> [(message id, uid)] for stored messages (uid may be missing for local ones)."""
    rows = await session.execute(
        select(Message.folder_id, Message.id, Message.uid).where(Message.id.in_(list(ids)))
    )
    grouped: dict[int, list[tuple[int, int]]] = {}
    for folder_pk, pk, uid in rows:
        if uid is not None:
            grouped.setdefault(int(folder_pk), []).append((int(pk), int(uid)))
    return grouped


async def moved_row(
    session: AsyncSession, folder_pk: int, pk: int, header_id: str
) -> tuple[int, int | None] | None:
    """(id, uid) of a moved message's row in ``folder_pk``: by its id, else by Message-ID (a
    sync replaced the stand-in with the server's copy); None when it is not there."""
    wanted = select(Message.id, Message.uid).where(Message.folder_id == folder_pk)
    row = (await session.execute(wanted.where(Message.id == pk))).first()
    if row is None and header_id:
        newest = wanted.where(Message.message_id == header_id).order_by(Message.id.desc())
        row = (await session.execute(newest.limit(1))).first()
    return None if row is None else (int(row[0]), None if row[1] is None else int(row[1]))


async def drop_placeholders(
    session: AsyncSession, folder_pk: int, message_ids: Sequence[str] | None = None
) -> None:
    """Forget rows moved or copied here offline (uid NULL): the server's copies replace them.

    With ``message_ids``, only the stand-ins of those messages (whose copies just arrived).
    """
    where = [Message.folder_id == folder_pk, Message.uid.is_(None)]
    if message_ids is not None:
        wanted = [m for m in message_ids if m]
        if not wanted:
            return
        where.append(Message.message_id.in_(wanted))
    await session.execute(delete(Message).where(*where))
