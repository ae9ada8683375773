"""`tuimail sync` when nothing changed: proved from the store and one LIST-STATUS per account.

A sync pass of an unchanged account reads and writes nothing but the folders' saved states, yet
the full path imports the ORM and the sync machinery first (most of its time). This check
reads the store with plain sqlite3 and asks each server for every folder's STATUS counters; it
answers only when the full pass would provably change nothing (the rules of
``imap_sync._sync_account`` and ``_unchanged``, mirrored here):

- every account is IMAP, on a server with CONDSTORE (without HIGHESTMODSEQ a flag changed
  elsewhere cannot be seen from STATUS), and already in a store at the schema head;
- the server's selectable folders, with their roles (``with_roles``), delimiters and
  subscriptions, are exactly those the store keeps;
- every folder's UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and MESSAGES equal the saved ones
  (MESSAGES catches an expunge on servers that leave HIGHESTMODSEQ alone);
- nothing else waits for the pass (``plain_reads.sync_work_left``): queued actions, rows moved
  offline, messages or bodies to index for search (``accounts.index_for_search``), bodies to
  download with offline = "full". The outbox is not the sync's business: ``tuimail sync`` never
  sends it.

Anything else, including any doubt, is None: the caller runs the full pass, exactly as before.
A server that refuses the login (or cannot be reached) is that account's failure, in the same
words the full pass would print; trying again would only wait for the network twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from tuimail.config_view import ImapAccountSettings
from tuimail.errors import TuimailError
from tuimail.protocols.imap import ImapClient
from tuimail.protocols.imap_records import FolderStatus
from tuimail.store import plain_reads
from tuimail.store.files import lock_store
from tuimail.store.records import FolderState
from tuimail.sync.folder_roles import with_roles
from tuimail.sync.folder_status import shows_no_change
from tuimail.sync.imap_connect import connect

log = logging.getLogger(__name__)

# (account, ok, summary): what the sync command prints, one line per account.
Outcome = tuple[str, bool, str]


async def nothing_to_do(
    chosen: Mapping[str, ImapAccountSettings], store_path: Path
) -> list[Outcome] | None:
    """The summaries of a sync pass of the IMAP accounts ``chosen`` that is proved to change
    nothing; None when the full pass has to run."""
    if not store_path.exists():
        return None
    try:
        lock_fd = lock_store(store_path)  # no writer may change the store under this check
    except (TuimailError, OSError):
        return None  # another tuimail holds it: the full path says so
    try:
        stored = _stored_folders(store_path, chosen)
        if stored is None:
            return None
        outcomes: list[Outcome] = []
        for name, account in chosen.items():
            outcome = await _account_unchanged(name, account, stored[name])
            if outcome is None:
                return None
            outcomes.append(outcome)
        return outcomes
    finally:
        os.close(lock_fd)


def _stored_folders(
    store_path: Path, chosen: Mapping[str, ImapAccountSettings]
) -> dict[str, list[FolderState]] | None:
    """Each account's stored folders, when nothing waits in the store for a pass."""
    try:
        with plain_reads.open_plain(store_path) as connection:
            if connection is None:
                return None  # a migration is due: the full path runs it
            stored: dict[str, list[FolderState]] = {}
            for name in chosen:
                folders = plain_reads.account_folders(connection, name)
                if folders is None:
                    return None
                stored[name] = folders
            everything = [f for folders in stored.values() for f in folders]
            downloading = [
                f.id
                for name, folders in stored.items()
                for f in folders
                if chosen[name].offline == "full"
            ]
            account_pks = sorted({f.account_id for f in everything})
            left = plain_reads.sync_work_left(
                connection, account_pks, [f.id for f in everything], downloading
            )
    except TuimailError as exc:
        log.debug("quick check: the store cannot be read plainly: %s", exc)
        return None
    if left is not None:
        log.debug("quick check: %s waiting; full sync", left)
        return None
    return stored


async def _account_unchanged(
    name: str, account: ImapAccountSettings, folders: list[FolderState]
) -> Outcome | None:
    """The account's summary when its server shows no change; None when it may have one."""
    try:
        client = await connect(name, account)
    except TuimailError as exc:
        log.info("%s: sync failed: %s", name, exc, exc_info=True)
        return name, False, str(exc)
    try:
        same = await _server_matches(client, account, folders)
        await client.logout()
    except TuimailError as exc:
        log.info("%s: sync failed: %s", name, exc, exc_info=True)
        return name, False, str(exc)
    finally:
        await client.close()
    if same is None:
        return None
    return name, True, f"0 new, 0 flag changes, 0 removed in {same} folders"


async def _server_matches(
    client: ImapClient, account: ImapAccountSettings, folders: list[FolderState]
) -> int | None:
    """How many folders the account has, when the server's match the stored ones exactly."""
    if "CONDSTORE" not in client.capabilities:
        log.debug("quick check: %s has no CONDSTORE; full sync", client.settings.host)
        return None
    listed, statuses = await client.list_folders_with_status()
    # As the full pass stores them: selectable folders, roles found by name where none is marked.
    wanted = {
        info.name: (info.role, info.delimiter, info.subscribed)
        for info in with_roles(listed, account)
        if info.selectable
    }
    kept = {f.name: f for f in folders if not f.is_local}
    if wanted.keys() != kept.keys():
        log.debug("quick check: the server's folders differ from the stored ones")
        return None
    for folder_name, (role, delimiter, subscribed) in wanted.items():
        folder = kept[folder_name]
        if (folder.role, folder.delimiter, folder.subscribed) != (role, delimiter, subscribed):
            log.debug("quick check: %s changed its role or subscription", folder_name)
            return None
    for folder in kept.values():
        status = statuses.get(folder.name) or await client.status(folder.name)
        if not _unchanged(folder, status):
            log.debug("quick check: %s changed", folder.name)
            return None
    return len(wanted)


def _unchanged(folder: FolderState, status: FolderStatus) -> bool:
    """``folder_status.shows_no_change``, and no stale unread count the full pass would fix."""
    if status.messages == 0 and folder.unread_count:
        return False  # the full pass would recount it
    return shows_no_change(folder, status)
