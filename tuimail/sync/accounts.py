"""Running accounts: settings from the config, secrets, TLS, then the right sync per protocol.

The CLI and the UI call these and never branch on IMAP versus POP3 themselves.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tuimail import secrets
from tuimail.config import AccountConfig, LoadedConfig, Pop3Config
from tuimail.errors import ConfigError, TuimailError
from tuimail.store import search_queries
from tuimail.store.db import Store
from tuimail.sync.body_index import index_downloaded_bodies
from tuimail.sync.interface import ProgressCallback, SyncOutcome, SyncProgress

# The protocol engines load when an account of theirs first syncs.
if TYPE_CHECKING:
    from tuimail.protocols.pop3 import Pop3Settings
    from tuimail.sync import pop3_fetch

log = logging.getLogger(__name__)


def pop3_settings(account: AccountConfig) -> tuple[Pop3Config, Pop3Settings]:
    """The POP3 client settings for an account, TLS context included."""
    from tuimail.protocols.pop3 import Pop3Settings
    from tuimail.protocols.tls import client_context

    server = account.pop3
    if server is None:
        raise ConfigError("not a POP3 account")
    context = (
        client_context(server.tls_ca_file, server.tls_verify) if server.security != "none" else None
    )
    settings = Pop3Settings(
        host=server.host,
        port=server.port_for("pop3"),
        security=server.security,
        ssl_context=context,
        timeout=server.timeout,
    )
    return server, settings


async def sync_pop3(
    store: Store, name: str, account: AccountConfig, progress: ProgressCallback | None = None
) -> str:
    """Download a POP3 account; returns a one-line summary."""
    from tuimail.sync import pop3_fetch

    server, settings = pop3_settings(account)
    username = server.username or account.email
    password = await secrets.get_password(name, "pop3", server, username)

    def report(p: pop3_fetch.Pop3Progress) -> None:
        if progress:
            progress(SyncProgress(name, p.messages_done, p.messages_total, p.bytes_done))

    result = await pop3_fetch.fetch_account(
        store, name, account.email, server, settings, username, password, progress=report
    )
    summary = f"{result.downloaded} new, {result.deleted} deleted on the server"
    if not result.used_uidl:
        summary += " (server has no UIDL: digests used)"
    if result.too_large:
        summary += f"; {result.too_large} over max_message_size left on the server"
    return summary


async def sync_account(
    store: Store, name: str, account: AccountConfig, progress: ProgressCallback | None = None
) -> SyncOutcome:
    """One sync pass of one account; a failure becomes an outcome, not an exception."""
    try:
        if account.kind == "pop3":
            summary = await sync_pop3(store, name, account, progress)
        else:
            from tuimail.sync.imap_sync import ImapProgress, sync_imap_account

            def report(p: ImapProgress) -> None:
                if progress:
                    progress(SyncProgress(name, p.done, p.total))

            summary = await sync_imap_account(store, name, account, report)
    except TuimailError as exc:
        log.info("%s: sync failed: %s", name, exc, exc_info=True)
        return SyncOutcome(name, False, str(exc))
    return SyncOutcome(name, True, summary)


async def sync_all(
    store: Store,
    loaded: LoadedConfig,
    names: list[str] | None = None,
    progress: ProgressCallback | None = None,
) -> list[SyncOutcome]:
    """Sync the named accounts (all when none are named), one after the other."""
    chosen = names or list(loaded.accounts)
    accounts = {name: loaded.account(name) for name in chosen}  # unknown names fail first
    outcomes = [await sync_account(store, name, acc, progress) for name, acc in accounts.items()]
    await index_for_search(store)
    return outcomes


async def index_for_search(store: Store) -> None:
    """Index for search what the syncs stored from headers alone, then downloaded bodies.

    A few batches per transaction, so that a sync running beside it waits no more than that.
    A store that refuses (a full disk) is logged and left: the next search tries again.
    """
    try:
        while True:
            async with store.session() as session:
                if not await search_queries.index_pending(session, batches=4):
                    break
        await index_downloaded_bodies(store)
    except TuimailError as exc:
        log.warning("search index not brought up to date: %s", exc)
