"""The named reads and writes the rest of tuimail needs; the only module that writes SQL.

Every function takes an ``AsyncSession`` that the caller opened with ``Store.session()``, so a
caller decides what belongs in one transaction (a batch of a sync, a POP3 batch before DELE).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from functools import lru_cache
from itertools import chain

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tuimail.errors import MessageNotFound, NotAllowed
from tuimail.store.message_values import (
    INSERT_COLUMNS,
    MessageValues,
    flag_row,
    flag_values,
    message_values,
)
from tuimail.store.models import Account, Folder, Message, MessageBody
from tuimail.store.records import (
    FLAG_COLUMNS,
    FolderState,
    MessageRow,
    NewMessage,
)
from tuimail.store.rows import folder_order, folder_record, message_row
from tuimail.store.search_queries import index_messages


def _quote(column: str) -> str:
    return f'"{column}"'


async def ensure_account(session: AsyncSession, name: str, kind: str, email: str) -> int:
    """The id of the named account, created on first use."""
    found = await session.scalar(select(Account.id).where(Account.name == name))
    if found is not None:
        return found
    # Two tasks of one process (a sync and a draft's autosave on a new store) may both get
    # here: whichever inserts second takes the row the first one made.
    await session.execute(
        sqlite_insert(Account)
        .values(name=name, kind=kind, email=email)
        .on_conflict_do_nothing(index_elements=[Account.name])
    )
    return int(await session.scalar(select(Account.id).where(Account.name == name)) or 0)


async def account_id(session: AsyncSession, name: str) -> int:
    """The id of an account that must already be in the store."""
    found = await session.scalar(select(Account.id).where(Account.name == name))
    if found is None:
        raise MessageNotFound(f"account {name!r} has no mail in the store yet; run `tuimail sync`")
    return found


async def ensure_folder(
    session: AsyncSession,
    account_pk: int,
    name: str,
    *,
    role: str | None = None,
    delimiter: str | None = None,
    is_local: bool = False,
    subscribed: bool = True,
) -> int:
    """The id of a folder, created on first use; role, delimiter, subscription refreshed."""
    listed = [(name, role, delimiter, subscribed)]
    return (await ensure_folders(session, account_pk, listed, is_local=is_local))[name]


async def ensure_folders(
    session: AsyncSession,
    account_pk: int,
    listed: Sequence[tuple[str, str | None, str | None, bool]],
    *,
    is_local: bool = False,
) -> dict[str, int]:
    """Ids by name of the folders ``(name, role, delimiter, subscribed)``, created on first
    use, their role, delimiter and subscription refreshed: three statements at most."""
    wanted = {name: (role, delimiter, subscribed) for name, role, delimiter, subscribed in listed}
    query = select(Folder.name, Folder.id, Folder.role, Folder.delimiter, Folder.subscribed)
    stored = {
        name: (pk, (role, delimiter, subscribed))
        for name, pk, role, delimiter, subscribed in await session.execute(
            query.where(Folder.account_id == account_pk)
        )
    }
    changed = [
        {"id": stored[name][0], "role": role, "delimiter": delimiter, "subscribed": subscribed}
        for name, (role, delimiter, subscribed) in wanted.items()
        if name in stored and stored[name][1] != (role, delimiter, subscribed)
    ]
    if changed:
        await session.execute(update(Folder), changed)
    new = [
        {
            "account_id": account_pk,
            "name": name,
            "role": role,
            "delimiter": delimiter,
            "is_local": is_local,
            "subscribed": subscribed,
            "total_count": 0,
            "unread_count": 0,
        }
        for name, (role, delimiter, subscribed) in wanted.items()
        if name not in stored
    ]
    if new:
        await session.execute(insert(Folder), new)
        created = await session.execute(
            select(Folder.name, Folder.id).where(
                Folder.account_id == account_pk, Folder.name.in_([f["name"] for f in new])
            )
        )
        stored.update({name: (pk, wanted[name]) for name, pk in created})
    return {name: stored[name][0] for name in wanted}


async def folders(session: AsyncSession, account_pk: int) -> list[FolderState]:
    """An account's folders: special-use roles first, then by name."""
    rows = (await session.scalars(select(Folder).where(Folder.account_id == account_pk))).all()
    return sorted((folder_record(f) for f in rows), key=folder_order)


async def folder_by_name(session: AsyncSession, account_name: str, name: str) -> FolderState:
    """The folder ``name`` of ``account_name`` (case-insensitive for INBOX)."""
    account_pk = await account_id(session, account_name)
    for folder in await folders(session, account_pk):
        if folder.name == name or (name.upper() == "INBOX" and folder.role == "inbox"):
            return folder
    raise MessageNotFound(f"no folder {name!r} in account {account_name!r}")


async def folder_state(session: AsyncSession, folder_pk: int) -> FolderState:
    """A folder by id."""
    folder = await session.get(Folder, folder_pk)
    if folder is None:
        raise MessageNotFound(f"folder #{folder_pk} is gone")
    return folder_record(folder)


async def set_folder_sync_state(
    session: AsyncSession,
    folder_pk: int,
    *,
    uidvalidity: int | None,
    uidnext: int | None,
    highestmodseq: int | None,
) -> None:
    """Record how far a folder has been synchronised."""
    await session.execute(
        update(Folder)
        .where(Folder.id == folder_pk)
        .values(uidvalidity=uidvalidity, uidnext=uidnext, highestmodseq=highestmodseq)
    )


async def set_folder_uidvalidity(session: AsyncSession, folder_pk: int, uidvalidity: int) -> None:
    """Record the UIDVALIDITY a folder's first pass found, before its rows are stored."""
    await session.execute(
        update(Folder).where(Folder.id == folder_pk).values(uidvalidity=uidvalidity)
    )


async def set_folder_sync_states(
    session: AsyncSession, states: Sequence[tuple[int, int | None, int | None, int | None]]
) -> None:
    """``set_folder_sync_state`` for many folders in one statement: rows of
    ``(folder id, uidvalidity, uidnext, highestmodseq)``."""
    if not states:
        return
    await session.execute(
        update(Folder),
        [
            {"id": pk, "uidvalidity": uidvalidity, "uidnext": uidnext, "highestmodseq": modseq}
            for pk, uidvalidity, uidnext, modseq in states
        ],
    )


_ROW_PLACEHOLDERS = f"({', '.join('?' for _ in range(1 + len(INSERT_COLUMNS)))})"
_INSERT_MESSAGES = (
    f"INSERT INTO messages (folder_id, {', '.join(_quote(c) for c in INSERT_COLUMNS)}) VALUES "
    f"{_ROW_PLACEHOLDERS}"
)


def _bound_values_limit() -> int:
    """How many ``?`` one statement may hold in the SQLite that Python's sqlite3 links."""
    connection = sqlite3.connect(":memory:")
    try:
        return int(connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    finally:
        connection.close()


# Rows go hundreds to a statement. SQLite's thread gives up the GIL while it steps a statement
# and must win it back from the event loop afterwards, which takes up to the 5 ms switch
# interval while the loop parses: a batch stepped row by row spent most of its time waiting.
# How many values a statement may bind depends on the build (999 in old ones).
ROWS_PER_INSERT = max(1, min(500, _bound_values_limit() // (1 + len(INSERT_COLUMNS))))


@lru_cache(maxsize=64)
def _insert_rows(count: int) -> str:
    """The INSERT of ``count`` messages in one statement."""
    return _INSERT_MESSAGES + f", {_ROW_PLACEHOLDERS}" * (count - 1)


async def _insert_values(
    session: AsyncSession, folder_pk: int, values: Sequence[MessageValues]
) -> list[int]:
    """Insert rows of ``message_values`` into a folder; their ids in order."""
    # Straight to the driver: the ORM's per-row bookkeeping costs 20x more and SQLAlchemy's
    # parameter processing doubles the time of a 100k-message first sync.
    connection = await session.connection()
    # Whole statements first, in one executemany; the last statement runs alone, so that its
    # cursor tells the last rowid (no SELECT: each statement is several trips to SQLite's
    # thread). Inside one write transaction nobody else inserts, so the rows got consecutive
    # rowids (max + 1 each): the last id fixes them all.
    head = len(values) - (len(values) % ROWS_PER_INSERT or ROWS_PER_INSERT)
    if head:
        await connection.exec_driver_sql(
            _insert_rows(ROWS_PER_INSERT),
            [
                tuple(
                    chain.from_iterable(
                        (folder_pk, *row) for row in values[start : start + ROWS_PER_INSERT]
                    )
                )
                for start in range(0, head, ROWS_PER_INSERT)
            ],
        )
    result = await connection.exec_driver_sql(
        _insert_rows(len(values) - head),
        tuple(chain.from_iterable((folder_pk, *row) for row in values[head:])),
    )
    last = result.lastrowid
    return list(range(last - len(values) + 1, last + 1))


async def _index_later(session: AsyncSession, ids: list[int]) -> None:
    """Leave messages ``ids`` (consecutive) to ``search_queries.index_pending``."""
    connection = await session.connection()
    await connection.exec_driver_sql(
        "INSERT INTO fts_pending (first_id, last_id) VALUES (?, ?)", (ids[0], ids[-1])
    )


async def insert_header_values(
    session: AsyncSession, folder_pk: int, values: Sequence[MessageValues]
) -> list[int]:
    """Insert messages known by their headers alone, as ``message_values`` rows; their ids.

    They wait in ``fts_pending`` for ``search_queries.index_pending``.
    """
    if not values:
        return []
    ids = await _insert_values(session, folder_pk, values)
    await _index_later(session, ids)
    return ids


async def insert_messages(
    session: AsyncSession, folder_pk: int, items: Sequence[NewMessage]
) -> list[int]:
    """Insert a batch of messages and return their ids in order.

    Bodies are stored and indexed for search at once; messages with headers alone wait in
    ``fts_pending`` for ``search_queries.index_pending``.
    """
    if not items:
        return []
    ids = await _insert_values(session, folder_pk, [message_values(item) for item in items])
    bodies = [(pk, item.raw) for pk, item in zip(ids, items, strict=True) if item.raw is not None]
    if bodies:
        connection = await session.connection()
        await connection.exec_driver_sql(
            "INSERT INTO message_bodies (message_pk, raw) VALUES (?, ?)", bodies
        )
    if not any(item.body_text for item in items):
        # Headers alone (IMAP): indexed for search after the sync, from the stored columns.
        await _index_later(session, ids)
        return ids
    await index_messages(
        session, [(pk, item.body_text or None) for pk, item in zip(ids, items, strict=True)]
    )
    return ids


async def set_body(
    session: AsyncSession, message_pk: int, raw: bytes, body_text: str, *, has_attachments: bool
) -> None:
    """Cache a message's bytes, make its body searchable, and set its paperclip from them.

    The bytes decide ``has_attachments`` over what the header sync guessed from the server.
    """
    await session.execute(
        update(Message).where(Message.id == message_pk).values(has_attachments=has_attachments)
    )
    await session.execute(delete(MessageBody).where(MessageBody.message_pk == message_pk))
    await session.execute(insert(MessageBody).values(message_pk=message_pk, raw=raw))
    # Delete and insert, not UPDATE: the message may still wait in fts_pending, unindexed.
    await session.execute(text("DELETE FROM messages_fts WHERE rowid = :id"), {"id": message_pk})
    await index_messages(session, [(message_pk, body_text)])


async def get_body(session: AsyncSession, message_pk: int) -> bytes | None:
    """The cached bytes of a message, or None when only its headers are known."""
    return await session.scalar(select(MessageBody.raw).where(MessageBody.message_pk == message_pk))


async def refresh_counts(session: AsyncSession, folder_pk: int) -> None:
    """Recount a folder's total and unread messages (cheap: both read the index)."""
    total = select(func.count()).where(Message.folder_id == folder_pk).scalar_subquery()
    unread = (
        select(func.count())
        .where(Message.folder_id == folder_pk, Message.seen.is_(False))
        .scalar_subquery()
    )
    # One statement, and no ORM bookkeeping: a sync recounts every folder it passes.
    await session.execute(
        update(Folder)
        .where(Folder.id == folder_pk)
        .values(total_count=total, unread_count=unread)
        .execution_options(synchronize_session=False)
    )


async def folder_message_ids(session: AsyncSession, folder_pk: int) -> list[int]:
    """Every message id of a folder, newest first: the virtual index's order."""
    result = await session.scalars(
        select(Message.id)
        .where(Message.folder_id == folder_pk)
        .order_by(Message.date.desc(), Message.id.desc())
    )
    return list(result.all())


async def messages_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[MessageRow]:
    """Rows for ``ids`` in the given order (missing ids are skipped): one page of the index."""
    found = {m.id: m for m in (await session.scalars(select(Message).where(Message.id.in_(ids))))}
    return [message_row(found[pk]) for pk in ids if pk in found]


async def list_messages(
    session: AsyncSession, folder_pk: int, *, limit: int | None = None, offset: int = 0
) -> list[MessageRow]:
    """A folder's messages newest first."""
    query = (
        select(Message)
        .where(Message.folder_id == folder_pk)
        .order_by(Message.date.desc(), Message.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [message_row(m) for m in await session.scalars(query)]


async def message_by_uid(session: AsyncSession, folder_pk: int, uid: int) -> MessageRow:
    """The message with IMAP ``uid`` (or local id for local folders) in a folder."""
    folder = await session.get(Folder, folder_pk)
    column = Message.id if folder is not None and folder.is_local else Message.uid
    message = await session.scalar(
        select(Message).where(Message.folder_id == folder_pk, column == uid)
    )
    if message is None:
        raise MessageNotFound(f"no message {uid} in this folder")
    return message_row(message)


async def iter_folder_raw(
    session: AsyncSession, folder_pk: int, batch: int = 500
) -> AsyncIterator[tuple[MessageRow, bytes | None]]:
    """Every message of a folder with its bytes (None when not fetched), in the folder's order:
    by UID on a server (the sync stores the newest batch first), then the rows without one (a
    local folder's, or moved here offline) as stored."""
    # Keyset pages, each on an index: (folder_id, uid), then the primary key.
    for numbered, key in ((True, Message.uid), (False, Message.id)):
        last = -1
        while True:
            page = (
                await session.execute(
                    select(Message, MessageBody.raw)
                    .outerjoin(MessageBody, MessageBody.message_pk == Message.id)
                    .where(
                        Message.folder_id == folder_pk,
                        Message.uid.is_not(None) if numbered else Message.uid.is_(None),
                        key > last,
                    )
                    .order_by(key)
                    .limit(batch)
                )
            ).all()
            if not page:
                break
            for message, raw in page:
                yield message_row(message), raw
            newest = page[-1][0]
            last = newest.uid if numbered and newest.uid is not None else newest.id


async def create_local_folder(session: AsyncSession, account_pk: int, name: str) -> int:
    """A new folder that lives only in the store (POP3 accounts file mail in these)."""
    exists = await session.scalar(
        select(Folder.id).where(Folder.account_id == account_pk, Folder.name == name)
    )
    if exists is not None:
        raise NotAllowed(f"a folder named {name!r} already exists")
    return await ensure_folder(session, account_pk, name, is_local=True)


async def rename_folder(session: AsyncSession, folder_pk: int, new_name: str) -> None:
    """Rename a folder (special-use folders keep their role)."""
    folder = await folder_state(session, folder_pk)
    clash = await session.scalar(
        select(Folder.id).where(Folder.account_id == folder.account_id, Folder.name == new_name)
    )
    if clash is not None:
        raise NotAllowed(f"a folder named {new_name!r} already exists")
    await session.execute(update(Folder).where(Folder.id == folder_pk).values(name=new_name))


async def delete_folder(session: AsyncSession, folder_pk: int) -> None:
    """Delete an empty, non-special folder; mail is never deleted along with a folder."""
    folder = await folder_state(session, folder_pk)
    if folder.role is not None:
        raise NotAllowed(f"{folder.name} is a special folder and cannot be deleted")
    count = await session.scalar(select(func.count()).where(Message.folder_id == folder_pk))
    if count:
        raise NotAllowed(f"{folder.name} still holds {count} messages; move them first")
    await session.execute(delete(Folder).where(Folder.id == folder_pk))


async def move_messages(session: AsyncSession, ids: Sequence[int], target_pk: int) -> None:
    """Move messages between local folders of one account, keeping counts right."""
    if not ids:
        return
    sources = set(
        (await session.scalars(select(Message.folder_id).where(Message.id.in_(ids)))).all()
    )
    await session.execute(
        update(Message).where(Message.id.in_(ids)).values(folder_id=target_pk, uid=None)
    )
    for folder_pk in sources | {target_pk}:
        await refresh_counts(session, folder_pk)


async def set_flags(
    session: AsyncSession,
    ids: Sequence[int],
    add: frozenset[str] = frozenset(),
    remove: frozenset[str] = frozenset(),
) -> None:
    """Add and remove system flags on messages and refresh their folders' unread counts."""
    values: dict[str, bool] = {}
    for flag, on in [(f, True) for f in add] + [(f, False) for f in remove]:
        column = FLAG_COLUMNS.get(flag)
        if column is not None:
            values[column] = on
    if not ids or not values:
        return
    await session.execute(update(Message).where(Message.id.in_(ids)).values(**values))
    folders_touched = set(
        (await session.scalars(select(Message.folder_id).where(Message.id.in_(ids)))).all()
    )
    for folder_pk in folders_touched:
        await refresh_counts(session, folder_pk)


async def folder_uids(session: AsyncSession, folder_pk: int) -> set[int]:
    """The IMAP UIDs of a folder's stored messages."""
    rows = await session.scalars(
        select(Message.uid).where(Message.folder_id == folder_pk, Message.uid.is_not(None))
    )
    return {int(uid) for uid in rows if uid is not None}


async def folders_with_messages(session: AsyncSession, folder_pks: Sequence[int]) -> set[int]:
    """Those of ``folder_pks`` that hold at least one message row (stand-ins included)."""
    if not folder_pks:
        return set()
    rows = await session.scalars(
        select(Message.folder_id).where(Message.folder_id.in_(folder_pks)).distinct()
    )
    return set(rows)


async def has_rows_without_uid(session: AsyncSession, folder_pk: int) -> bool:
    """Whether an IMAP folder holds rows without a UID (stand-ins of offline moves and copies)."""
    found = await session.scalar(
        select(Message.id).where(Message.folder_id == folder_pk, Message.uid.is_(None)).limit(1)
    )
    return found is not None


async def delete_uids(session: AsyncSession, folder_pk: int, uids: Sequence[int]) -> int:
    """Forget messages the server expunged; returns how many were stored."""
    removed = 0
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), 500):  # SQLite's bound-parameter limit
        chunk = ordered[start : start + 500]
        result = await session.execute(
            delete(Message).where(Message.folder_id == folder_pk, Message.uid.in_(chunk))
        )
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed


async def clear_folder(session: AsyncSession, folder_pk: int) -> None:
    """Drop every cached message of a folder (its UIDVALIDITY changed) and its sync state."""
    await session.execute(delete(Message).where(Message.folder_id == folder_pk))
    await set_folder_sync_state(
        session, folder_pk, uidvalidity=None, uidnext=None, highestmodseq=None
    )


async def flag_changes(
    session: AsyncSession, folder_pk: int, reported: Sequence[tuple[int, frozenset[str]]]
) -> list[tuple[int, frozenset[str]]]:
    """Those of the server's ``reported`` (uid, flags) that differ from the stored flags."""
    if not reported:
        return []
    columns = [getattr(Message, c) for c in [*FLAG_COLUMNS.values(), "keywords"]]
    query = select(Message.uid, *columns).where(Message.folder_id == folder_pk)
    if len(reported) > 500:  # most of a folder: one scan beats many lookups
        query = query.where(Message.uid.is_not(None))
    else:
        query = query.where(Message.uid.in_([uid for uid, _flags in reported]))
    stored = {int(uid): tuple(rest) for uid, *rest in await session.execute(query)}
    return [
        (uid, flags) for uid, flags in reported if uid in stored and stored[uid] != flag_row(flags)
    ]


async def update_flags_by_uid(
    session: AsyncSession, folder_pk: int, changes: Sequence[tuple[int, frozenset[str]]]
) -> int:
    """Replace the flags of messages by UID (what the server reported); returns rows changed.

    Messages with a queued action of this folder keep their flags: the store holds the user's
    change, not yet sent, and the server's older flags must not undo it.
    """
    if not changes:
        return 0
    columns = [*FLAG_COLUMNS.values(), "keywords"]
    rows = []
    for uid, flags in changes:
        values = flag_values(flags)
        rows.append((*(values[c] for c in columns), folder_pk, uid, folder_pk))
    connection = await session.connection()
    assignments = ", ".join(f"{c} = ?" for c in columns)
    result = await connection.exec_driver_sql(
        f"UPDATE messages SET {assignments} WHERE folder_id = ? AND uid = ? AND uid NOT IN "
        "(SELECT j.value FROM pending_actions p, json_each(p.payload, '$.uids') j "
        "WHERE p.folder_id = ?)",
        rows,
    )
    return int(result.rowcount or 0)


async def delete_folder_cache(session: AsyncSession, folder_pk: int) -> None:
    """Remove a folder the server no longer has, with its cached messages."""
    await session.execute(delete(Folder).where(Folder.id == folder_pk))


async def uid_of(session: AsyncSession, message_pk: int) -> tuple[FolderState, int | None]:
    """The folder and IMAP UID of a stored message."""
    message = await session.get(Message, message_pk)
    if message is None:
        raise MessageNotFound(f"message #{message_pk} is no longer in the store")
    return await folder_state(session, message.folder_id), message.uid


async def uids_without_body(session: AsyncSession, folder_pk: int) -> dict[int, int]:
    """UID -> message id of a folder's messages whose bytes are not stored yet."""
    rows = await session.execute(
        select(Message.uid, Message.id)
        .outerjoin(MessageBody, MessageBody.message_pk == Message.id)
        .where(Message.folder_id == folder_pk, MessageBody.message_pk.is_(None))
        .where(Message.uid.is_not(None))
    )
    return {int(uid): int(pk) for uid, pk in rows if uid is not None}


async def folders_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    """folder id -> message ids, for messages spread over folders."""
    rows = await session.execute(
        select(Message.folder_id, Message.id).where(Message.id.in_(list(ids)))
    )
    grouped: dict[int, list[int]] = {}
    for folder_pk, pk in rows:
        grouped.setdefault(int(folder_pk), []).append(int(pk))
    return grouped


async def folder_with_role(session: AsyncSession, account_pk: int, role: str) -> FolderState | None:
    """The account's folder with a special-use role (trash, sent, drafts...), if any."""
    folder = await session.scalar(
        select(Folder).where(Folder.account_id == account_pk, Folder.role == role)
    )
    return folder_record(folder) if folder is not None else None


async def delete_messages(session: AsyncSession, ids: Sequence[int]) -> None:
    """Remove messages (and their bodies and search entries) from the store for good."""
    folders_touched = await folders_of(session, ids)
    await session.execute(delete(Message).where(Message.id.in_(list(ids))))
    for folder_pk in folders_touched:
        await refresh_counts(session, folder_pk)


# Where a message is on a server (UID, UIDL, mod-sequence) is not copied: a copy is not there.
_NOT_COPIED = frozenset({"id", "folder_id", "uid", "uidl", "modseq"})
_COPIED_COLUMNS = ", ".join(
    f'"{column.name}"' for column in Message.__table__.columns if column.name not in _NOT_COPIED
)
_COPY_ROW = (
    f"INSERT INTO messages (folder_id, {_COPIED_COLUMNS}) "
    f"SELECT ?, {_COPIED_COLUMNS} FROM messages WHERE id = ?"
)


async def copy_messages(session: AsyncSession, ids: Sequence[int], target_pk: int) -> list[int]:
    """Copy messages into another folder, row, body and search entry as they are.

    The copies have no UID (or UIDL, mod-sequence) yet: they are not on a server.
    """
    connection = await session.connection()
    pairs: list[tuple[int, int]] = []  # (copy, original)
    for pk in ids:
        result = await connection.exec_driver_sql(_COPY_ROW, (target_pk, pk))
        if result.rowcount:  # a message deleted meanwhile is not copied
            pairs.append((result.lastrowid, pk))
    if not pairs:
        return []
    copied = [new for new, _ in pairs]
    await connection.exec_driver_sql(
        "INSERT INTO message_bodies (message_pk, raw) SELECT ?, raw FROM message_bodies "
        "WHERE message_pk = ?",
        pairs,
    )
    # The original's index entry holds its body text, which the store does not keep apart.
    await connection.exec_driver_sql(
        "INSERT INTO messages_fts (rowid, subject, addresses, body) "
        "SELECT ?, subject, addresses, body FROM messages_fts WHERE rowid = ?",
        pairs,
    )
    # A copy of a message not indexed yet waits with it (index_pending skips indexed ones).
    await connection.exec_driver_sql(
        "INSERT INTO fts_pending (first_id, last_id) VALUES (?, ?)", (min(copied), max(copied))
    )
    await refresh_counts(session, target_pk)
    return copied


async def account_name(session: AsyncSession, account_pk: int) -> str:
    """The configured name of a stored account."""
    account = await session.get(Account, account_pk)
    if account is None:
        raise MessageNotFound(f"account #{account_pk} is gone from the store")
    return account.name
