"""IMAP work on demand, outside a sync pass: a body to show, a server search, an APPEND, the
server copy of a draft. Each runs on the account's kept connection (``imap_pool``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from tuimail.errors import MessageNotFound
from tuimail.mail.parse import envelope_from_bytes
from tuimail.mail.query import Query
from tuimail.mail.render import render_message
from tuimail.protocols.imap import ImapClient
from tuimail.protocols.imap_records import SelectedState
from tuimail.protocols.imap_search import header_key, search_keys
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState
from tuimail.sync.imap_pool import AccountConnection


async def server_search(
    store: Store, connection: AccountConnection, folder: FolderState, query: Query
) -> list[int]:
    """Ids of the folder's messages whose bodies are not stored that the server finds for
    ``query`` (IMAP SEARCH); the store's own index answers for the rest."""
    criteria = search_keys(query)
    async with store.session() as session:
        missing = await queries.uids_without_body(session, folder.id)
    if criteria is None or not missing:
        return []

    async def search(client: ImapClient) -> list[int]:
        # EXAMINE again even when the folder is open: it shows what arrived since.
        await client.select(folder.name, readonly=True)
        return await client.uid_search(criteria)

    found = await connection.run(search)
    return [missing[uid] for uid in found if uid in missing]


async def fetch_body(store: Store, connection: AccountConnection, message_pk: int) -> bytes:
    """A message's bytes: from the store, else fetched (BODY.PEEK[]) and cached."""
    async with store.session() as session:
        raw = await queries.get_body(session, message_pk)
        folder, uid = await queries.uid_of(session, message_pk)
    if raw is not None:
        return raw
    if uid is None:
        raise MessageNotFound("this message has no copy in the store")

    async def fetch(client: ImapClient) -> bytes:
        selected = client.selected
        if selected is None or selected.name != folder.name:
            await client.select(folder.name, readonly=True)
            return await client.fetch_body(uid)
        try:
            return await client.fetch_body(uid)
        except MessageNotFound:
            # The folder was opened a while ago: the server may show a newer message only
            # after a command lets it catch up.
            await client.noop()
            return await client.fetch_body(uid)

    raw = await connection.run(fetch)
    await cache_body(store, message_pk, raw)
    return raw


async def cache_body(store: Store, message_pk: int, raw: bytes) -> None:
    """Store a fetched message's bytes, its searchable text, and the paperclip its bytes give
    (the header sync only had the server's BODYSTRUCTURE to go by)."""
    body_text = render_message(raw).body
    has_attachments = envelope_from_bytes(raw).has_attachments
    async with store.session() as session:
        await queries.set_body(session, message_pk, raw, body_text, has_attachments=has_attachments)


async def append_to_role(
    connection: AccountConnection, role: str, raw: bytes, flags: Collection[str]
) -> None:
    """APPEND a message to the folder with a special-use role (Sent, Drafts)."""

    async def append(client: ImapClient) -> None:
        await client.append(await connection.role_folder(client, role), raw, flags)

    await connection.run(append, repeatable=False)


async def replace_in_role(
    store: Store,
    connection: AccountConnection,
    role: str,
    raw: bytes,
    flags: Collection[str],
    header: str,
    keys: Sequence[str],
    also: StoredCopy | None = None,
) -> None:
    """APPEND ``raw`` to the role's folder and expunge the earlier copies whose ``header``
    is exactly one of ``keys``, and ``also`` (a copy without that header, by its UID)."""

    async def replace(client: ImapClient) -> tuple[str, list[int]]:
        target = await connection.role_folder(client, role)
        selected = await client.select(target)
        earlier = sorted(set(await carrying(client, header, keys)) | also_uids(also, selected))
        # The new copy goes in before the old one goes: a failure between leaves two, not none.
        await client.append(target, raw, flags)
        await client.expunge(earlier)
        return target, earlier

    target, gone = await connection.run(replace, repeatable=False)
    await forget(store, connection.name, target, gone)


async def remove_from_role(
    store: Store,
    connection: AccountConnection,
    role: str,
    header: str,
    keys: Sequence[str],
    also: StoredCopy | None = None,
) -> None:
    """Expunge the messages of the role's folder whose ``header`` is exactly one of ``keys``
    (and ``also``, by its UID), on the server and in the store."""

    async def remove(client: ImapClient) -> tuple[str, list[int]]:
        target = await connection.role_folder(client, role)
        selected = await client.select(target)
        found = sorted(set(await carrying(client, header, keys)) | also_uids(also, selected))
        await client.expunge(found)
        return target, found

    target, gone = await connection.run(remove, repeatable=False)
    await forget(store, connection.name, target, gone)


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """A message of a server folder as the store knows it: its folder, UID and UIDVALIDITY."""

    folder: str
    uid: int
    uidvalidity: int


def also_uids(copy: StoredCopy | None, selected: SelectedState) -> set[int]:
    """``copy``'s UID if it names a message of the selected folder (same name and UIDVALIDITY:
    under another the UID names another message)."""
    if copy is None or copy.folder != selected.name or copy.uidvalidity != selected.uidvalidity:
        return set()
    return {copy.uid}


async def carrying(client: ImapClient, header: str, keys: Sequence[str]) -> list[int]:
    """UIDs in the selected folder whose ``header`` is exactly one of ``keys``.

    SEARCH HEADER matches substrings (RFC 3501 6.4.4: key "3" finds 13 and 30), so what it
    finds is read back and compared whole before anyone expunges it.
    """
    wanted = set(keys)
    candidates: set[int] = set()
    for key in wanted:
        candidates.update(await client.uid_search(header_key(header, key)))
    if not candidates:
        return []
    lines = await client.fetch_header_field(candidates, header)
    parser = BytesHeaderParser(policy=compat32)
    return sorted(
        uid
        for uid, block in lines.items()
        if any(
            " ".join(str(value).split()) in wanted
            for value in parser.parsebytes(block).get_all(header, [])
        )
    )


async def forget(store: Store, account_name: str, folder_name: str, uids: Sequence[int]) -> None:
    """Drop messages expunged from a server folder from the store now, not at the next sync."""
    if not uids:
        return
    async with store.session() as session:
        try:
            folder = await queries.folder_by_name(session, account_name, folder_name)
        except MessageNotFound:
            return  # never synced: nothing stored
        stored = []
        for uid in uids:
            try:
                stored.append((await queries.message_by_uid(session, folder.id, uid)).id)
            except MessageNotFound:
                continue
        await queries.delete_messages(session, stored)
