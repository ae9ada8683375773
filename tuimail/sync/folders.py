"""Creating, renaming and deleting folders: on the IMAP server, or in the store for POP3."""

from __future__ import annotations

from tuimail.config import AccountConfig
from tuimail.errors import NotAllowed
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.imap_connect import connect


async def _account_pk(store: Store, name: str, account: AccountConfig) -> int:
    async with store.session() as session:
        return await queries.ensure_account(session, name, account.kind, account.email)


async def create_folder(store: Store, name: str, account: AccountConfig, folder: str) -> None:
    """Create ``folder`` (on the server for IMAP, then in the store)."""
    account_pk = await _account_pk(store, name, account)
    if account.kind == "imap":
        client = await connect(name, account)
        try:
            await client.create_folder(folder)
            await client.subscribe(folder)
            await client.logout()
        finally:
            await client.close()
        async with store.session() as session:
            await queries.ensure_folder(session, account_pk, folder)
        return
    async with store.session() as session:
        await queries.create_local_folder(session, account_pk, folder)


async def rename_folder(
    store: Store, name: str, account: AccountConfig, folder: str, new_name: str
) -> None:
    """Rename ``folder`` to ``new_name``; its cached messages stay where they are."""
    async with store.session() as session:
        state = await queries.folder_by_name(session, name, folder)
    if state.role is not None:
        raise NotAllowed(f"{folder} is a special folder and keeps its name")
    if account.kind == "imap":
        client = await connect(name, account)
        try:
            await client.rename_folder(folder, new_name)
            await client.logout()
        finally:
            await client.close()
    async with store.session() as session:
        await queries.rename_folder(session, state.id, new_name)


async def delete_folder(store: Store, name: str, account: AccountConfig, folder: str) -> None:
    """Delete an empty, non-special folder."""
    async with store.session() as session:
        state = await queries.folder_by_name(session, name, folder)
        if state.role is not None:
            raise NotAllowed(f"{folder} is a special folder and cannot be deleted")
        if state.total_count:
            raise NotAllowed(f"{folder} still holds {state.total_count} messages; move them first")
    if account.kind == "imap":
        client = await connect(name, account)
        try:
            await client.delete_folder(folder)
            await client.logout()
        finally:
            await client.close()
    async with store.session() as session:
        await queries.delete_folder(session, state.id)
