"""IMAP work on demand, outside a sync pass: a body to show, a server search, an APPEND."""

from __future__ import annotations

from tuimail.config import AccountConfig
from tuimail.errors import MessageNotFound
from tuimail.mail.query import Query
from tuimail.mail.render import render_message
from tuimail.protocols.imap_search import search_keys
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState
from tuimail.sync.imap_connect import connect


async def server_search(
    store: Store, name: str, account: AccountConfig, folder: FolderState, query: Query
) -> list[int]:
    """Ids of the folder's messages whose bodies are not stored that the server finds for
    ``query`` (IMAP SEARCH); the store's own index answers for the rest."""
    criteria = search_keys(query)
    async with store.session() as session:
        missing = await queries.uids_without_body(session, folder.id)
    if criteria is None or not missing:
        return []
    client = await connect(name, account)
    try:
        await client.select(folder.name, readonly=True)
        found = await client.uid_search(criteria)
        await client.logout()
    finally:
        await client.close()
    return [missing[uid] for uid in found if uid in missing]


async def fetch_body(store: Store, name: str, account: AccountConfig, message_pk: int) -> bytes:
    """A message's bytes: from the store, else fetched (BODY.PEEK[]) and cached."""
    async with store.session() as session:
        raw = await queries.get_body(session, message_pk)
        folder, uid = await queries.uid_of(session, message_pk)
    if raw is not None:
        return raw
    if uid is None:
        raise MessageNotFound("this message has no copy in the store")
    client = await connect(name, account)
    try:
        await client.select(folder.name, readonly=True)
        raw = await client.fetch_body(uid)
        await client.logout()
    finally:
        await client.close()
    async with store.session() as session:
        await queries.set_body(session, message_pk, raw, render_message(raw).body)
    return raw


async def append_to_role(
    store: Store, name: str, account: AccountConfig, role: str, raw: bytes, flags: set[str]
) -> None:
    """APPEND a message to the folder with a special-use role (Sent, Drafts)."""
    client = await connect(name, account)
    try:
        target = next((f for f in await client.list_folders() if f.role == role), None)
        if target is None:
            target_name = role.capitalize()
            await client.create_folder(target_name)
        else:
            target_name = target.name
        await client.append(target_name, raw, flags)
        await client.logout()
    finally:
        await client.close()


async def replace_in_role(
    store: Store,
    name: str,
    account: AccountConfig,
    role: str,
    raw: bytes,
    flags: set[str],
    key: tuple[str, str],
) -> None:
    """APPEND ``raw`` to the role's folder and expunge earlier copies carrying header ``key``."""
    client = await connect(name, account)
    try:
        target = next((f for f in await client.list_folders() if f.role == role), None)
        target_name = target.name if target is not None else role.capitalize()
        if target is None:
            await client.create_folder(target_name)
        await client.select(target_name)
        header, value = key
        earlier = await client.uid_search(f'HEADER {header} "{value}"')
        await client.append(target_name, raw, flags)
        if earlier:
            await client.expunge(earlier)
        await client.logout()
    finally:
        await client.close()
