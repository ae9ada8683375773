"""The outbox and the drafts: the named reads and writes the sending side needs.

Like ``queries.py``, every function takes an ``AsyncSession`` opened with ``Store.session()``
and returns frozen values, never ORM objects.

An outbox row moves ``queued -> sending -> sent -> (deleted)``, or ``sending -> queued`` after a
temporary failure, or ``sending -> failed`` for good. ``sent`` means the server accepted the
message and only our own follow-up (the Sent copy, the origin's flag) is left; such a row is
never submitted again, and stays until its Sent copy is stored (``last_error`` says why not
yet). A row found in ``sending`` when a flush starts was interrupted by a crash and goes back
to ``queued``: whether the server got it is unknown, so it is sent again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from tuimail.errors import MessageNotFound
from tuimail.store.models import Account, Draft, OutboxEntry

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"  # accepted by the server; the row waits for the Sent copy and the origin mark
FAILED = "failed"
COPY_PENDING = "Sent copy pending: "  # last_error of a sent row whose Sent copy is not stored


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message in the outbox, without its bytes (``load_raw`` reads those)."""

    id: int
    account_id: int
    account_name: str
    sender: str
    recipients: tuple[str, ...]
    message_id: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: int  # Unix seconds
    created_at: int
    origin_pk: int | None
    origin_action: str | None
    size: int
    send_at: int | None = None  # due time of a delayed or scheduled message; None: at once


@dataclass(frozen=True, slots=True)
class TakenBack:
    """An entry taken out of the outbox before it was sent: what the composer needs again."""

    account_id: int
    raw: bytes  # as composed (Bcc kept) when the outbox has that, else as it would be sent
    origin_pk: int | None
    origin_action: str | None


@dataclass(frozen=True, slots=True)
class StoredDraft:
    """A saved draft: the message bytes as last autosaved."""

    id: int
    account_id: int
    raw: bytes
    updated_at: int  # Unix seconds
    remote_message_pk: int | None


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def _items_query() -> Select[OutboxEntry, str, int]:
    # The bytes stay on disk: a listing of big attachments must not read them all.
    return (
        select(OutboxEntry, Account.name, func.length(OutboxEntry.raw))
        .join(Account, Account.id == OutboxEntry.account_id)
        .options(defer(OutboxEntry.raw))
        .order_by(OutboxEntry.created_at, OutboxEntry.id)
    )


def _item(entry: OutboxEntry, account_name: str, size: int | None) -> OutboxItem:
    return OutboxItem(
        id=entry.id,
        account_id=entry.account_id,
        account_name=account_name,
        sender=entry.sender,
        recipients=tuple(entry.recipients.split("\n")) if entry.recipients else (),
        message_id=entry.message_id,
        status=entry.status,
        attempts=entry.attempts,
        last_error=entry.last_error,
        next_attempt_at=entry.next_attempt_at,
        created_at=entry.created_at,
        origin_pk=entry.origin_pk,
        origin_action=entry.origin_action,
        size=size or 0,
        send_at=entry.send_at,
    )


async def enqueue(
    session: AsyncSession,
    account_pk: int,
    raw: bytes,
    sender: str,
    recipients: Sequence[str],
    message_id: str,
    origin_pk: int | None = None,
    origin_action: str | None = None,
    *,
    now: int | None = None,
    send_at: int | None = None,
    draft_raw: bytes | None = None,
) -> int:
    """Queue a message, due at ``send_at`` (None: now); returns its outbox id.

    ``draft_raw`` is the message as composed, what ``take_back`` returns to the composer.
    """
    if not recipients or any("\n" in r or not r.strip() for r in recipients):
        raise ValueError("outbox recipients must be non-empty addresses without line breaks")
    result = await session.execute(
        insert(OutboxEntry)
        .values(
            account_id=account_pk,
            raw=raw,
            sender=sender,
            recipients="\n".join(recipients),
            message_id=message_id,
            status=QUEUED,
            attempts=0,
            last_error="",
            next_attempt_at=send_at or 0,
            created_at=_now(now),
            origin_pk=origin_pk,
            origin_action=origin_action,
            send_at=send_at,
            draft_raw=draft_raw,
        )
        .returning(OutboxEntry.id)
    )
    return int(result.scalar_one())


async def get_item(session: AsyncSession, outbox_id: int) -> OutboxItem:
    """One outbox entry by id."""
    row = (await session.execute(_items_query().where(OutboxEntry.id == outbox_id))).first()
    if row is None:
        raise MessageNotFound(f"message #{outbox_id} is no longer in the outbox")
    return _item(*row)


async def load_raw(session: AsyncSession, outbox_id: int) -> bytes:
    """The bytes of an outbox entry, exactly as they will be submitted."""
    raw = await session.scalar(select(OutboxEntry.raw).where(OutboxEntry.id == outbox_id))
    if raw is None:
        raise MessageNotFound(f"message #{outbox_id} is no longer in the outbox")
    return raw


async def list_outbox(session: AsyncSession, account_pk: int | None = None) -> list[OutboxItem]:
    """Everything in the outbox (of one account), oldest first."""
    query = _items_query()
    if account_pk is not None:
        query = query.where(OutboxEntry.account_id == account_pk)
    return [_item(*row) for row in await session.execute(query)]


async def due(session: AsyncSession, now: int) -> list[OutboxItem]:
    """Entries to work on now: queued ones whose time has come, and accepted ones to finish."""
    query = _items_query().where(
        ((OutboxEntry.status == QUEUED) & (OutboxEntry.next_attempt_at <= now))
        | (OutboxEntry.status == SENT)
    )
    return [_item(*row) for row in await session.execute(query)]


async def recover_interrupted(session: AsyncSession) -> int:
    """Put entries left in ``sending`` by a crash back in the queue; returns how many."""
    result = await session.execute(
        update(OutboxEntry).where(OutboxEntry.status == SENDING).values(status=QUEUED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_sending(session: AsyncSession, outbox_id: int) -> int | None:
    """Claim a queued entry for one attempt; returns the attempt number, None if not queued.

    None means the user cancelled, edited or sent it elsewhere meanwhile: do not send it.
    """
    result = await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == outbox_id, OutboxEntry.status == QUEUED)
        .values(status=SENDING, attempts=OutboxEntry.attempts + 1)
        .returning(OutboxEntry.attempts)
    )
    attempts = result.scalar_one_or_none()
    return None if attempts is None else int(attempts)


async def mark_accepted(session: AsyncSession, outbox_id: int, note: str = "") -> None:
    """The server accepted the message: never submit it again, only finish it."""
    await session.execute(
        update(OutboxEntry).where(OutboxEntry.id == outbox_id).values(status=SENT, last_error=note)
    )


async def mark_copy_pending(
    session: AsyncSession, outbox_id: int, error: str, *, origin_marked: bool
) -> None:
    """Sent, but the Sent copy failed: keep the row (never to be sent again) to store the copy
    at the next flush; ``origin_marked`` forgets the origin so it is not marked twice."""
    values: dict[str, object] = {"status": SENT, "last_error": COPY_PENDING + error}
    if origin_marked:
        values.update(origin_pk=None, origin_action=None)
    await session.execute(update(OutboxEntry).where(OutboxEntry.id == outbox_id).values(values))


async def mark_sent(session: AsyncSession, outbox_id: int) -> None:
    """Sent and followed up: the entry leaves the outbox."""
    await session.execute(delete(OutboxEntry).where(OutboxEntry.id == outbox_id))


async def mark_temporary_failure(
    session: AsyncSession, outbox_id: int, error: str, next_attempt_at: int
) -> None:
    """Back in the queue with the reason, to be tried again at ``next_attempt_at``."""
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == outbox_id)
        .values(status=QUEUED, last_error=error, next_attempt_at=next_attempt_at)
    )


async def mark_failed(session: AsyncSession, outbox_id: int, error: str) -> None:
    """Refused for good: kept, with the reason, until the user edits, requeues or deletes it."""
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == outbox_id)
        .values(status=FAILED, last_error=error)
    )


async def requeue(session: AsyncSession, outbox_id: int) -> None:
    """Try a failed or waiting entry again at the next flush, with a fresh backoff."""
    result = await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == outbox_id, OutboxEntry.status.in_((QUEUED, FAILED)))
        # A scheduled entry keeps its time: only the backoff is forgotten.
        .values(status=QUEUED, next_attempt_at=func.coalesce(OutboxEntry.send_at, 0), attempts=0)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        await _not_waiting(session, outbox_id)


async def _not_waiting(session: AsyncSession, outbox_id: int) -> NoReturn:
    await get_item(session, outbox_id)  # raises MessageNotFound when it is gone
    raise MessageNotFound(f"message #{outbox_id} is being sent or was sent already")


async def reschedule(session: AsyncSession, outbox_id: int, send_at: int | None) -> None:
    """Make a waiting or failed entry due at ``send_at`` (None: now) instead."""
    result = await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == outbox_id, OutboxEntry.status.in_((QUEUED, FAILED)))
        .values(status=QUEUED, send_at=send_at, next_attempt_at=send_at or 0, attempts=0)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        await _not_waiting(session, outbox_id)


async def take_back(session: AsyncSession, outbox_id: int) -> TakenBack:
    """Remove an entry that is not being sent and return it; the row is claimed in one
    statement, so a flush racing this either sends it or never sees it (MessageNotFound here)."""
    row = (
        await session.execute(
            delete(OutboxEntry)
            .where(OutboxEntry.id == outbox_id, OutboxEntry.status.in_((QUEUED, FAILED)))
            .returning(
                OutboxEntry.account_id,
                func.coalesce(OutboxEntry.draft_raw, OutboxEntry.raw),
                OutboxEntry.origin_pk,
                OutboxEntry.origin_action,
            )
        )
    ).first()
    if row is None:
        await _not_waiting(session, outbox_id)
    return TakenBack(int(row[0]), bytes(row[1]), row[2], row[3])


async def delete_item(session: AsyncSession, outbox_id: int) -> None:
    """Cancel an entry that is not being sent (raises MessageNotFound otherwise)."""
    result = await session.execute(
        delete(OutboxEntry).where(
            OutboxEntry.id == outbox_id, OutboxEntry.status.in_((QUEUED, FAILED))
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise MessageNotFound(f"message #{outbox_id} is not waiting in the outbox")


async def outbox_to_draft(session: AsyncSession, outbox_id: int, *, now: int | None = None) -> int:
    """Take a waiting or failed entry out of the outbox as a draft to edit; returns its id."""
    taken = await take_back(session, outbox_id)
    return await save_draft(session, taken.account_id, taken.raw, now=now)


def _draft(draft: Draft) -> StoredDraft:
    return StoredDraft(
        id=draft.id,
        account_id=draft.account_id,
        raw=draft.raw,
        updated_at=draft.updated_at,
        remote_message_pk=draft.remote_message_pk,
    )


async def save_draft(
    session: AsyncSession,
    account_pk: int,
    raw: bytes,
    draft_id: int | None = None,
    *,
    now: int | None = None,
) -> int:
    """Store a new draft, or overwrite draft ``draft_id``; returns the draft's id."""
    if draft_id is not None:
        result = await session.execute(
            update(Draft)
            .where(Draft.id == draft_id)
            .values(account_id=account_pk, raw=raw, updated_at=_now(now))
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return draft_id
    inserted = await session.execute(
        insert(Draft)
        .values(account_id=account_pk, raw=raw, updated_at=_now(now))
        .returning(Draft.id)
    )
    return int(inserted.scalar_one())


async def load_draft(session: AsyncSession, draft_id: int) -> StoredDraft:
    """One draft by id."""
    draft = await session.get(Draft, draft_id)
    if draft is None:
        raise MessageNotFound(f"draft #{draft_id} is gone")
    return _draft(draft)


async def delete_draft(session: AsyncSession, draft_id: int) -> None:
    """Forget a draft (sent or discarded); a missing draft is not an error."""
    await session.execute(delete(Draft).where(Draft.id == draft_id))


async def list_drafts(session: AsyncSession, account_pk: int | None = None) -> list[StoredDraft]:
    """Saved drafts (of one account), most recently edited first."""
    query = select(Draft).order_by(Draft.updated_at.desc(), Draft.id.desc())
    if account_pk is not None:
        query = query.where(Draft.account_id == account_pk)
    return [_draft(d) for d in await session.scalars(query)]


async def link_draft(session: AsyncSession, draft_id: int, message_pk: int | None) -> None:
    """Remember which stored message is the draft's copy in a local Drafts folder."""
    await session.execute(
        update(Draft).where(Draft.id == draft_id).values(remote_message_pk=message_pk)
    )
