"""Actions on messages: applied to the store at once, queued, and replayed on the server.

For POP3 (local) folders the store is all there is, so the change is complete at once. For IMAP
folders the store changes first (the user sees the result immediately, online or not) and an
action is queued; ``replay`` sends the queue in order before each sync of the account or of
the watched folder. An action whose messages are gone on the server is dropped with a notice in
the log, never retried forever.

Each action records the folder's UIDVALIDITY: UIDs mean nothing under another one (a server
migration or a rebuilt mailbox renumbers the messages), so an action whose folder's UIDVALIDITY
changed is dropped with a notice and nothing on the server is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tuimail.errors import MessageNotFound, NotAllowed, ProtocolError
from tuimail.protocols.imap_parse import format_uid_set, uid_set_chunks
from tuimail.protocols.imap_search import header_key
from tuimail.store import action_queries, queries
from tuimail.store.action_queries import QueuedAction
from tuimail.store.db import Store
from tuimail.store.records import FolderState
from tuimail.sync.interface import Moved

if TYPE_CHECKING:
    from tuimail.protocols.imap import ImapClient

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5

# Who waits for news of queued actions, by (store, account): the open folder's watcher sends
# them on its next pass instead of at the next full sync.
_listeners: dict[tuple[int, int], set[asyncio.Event]] = {}


@contextlib.contextmanager
def queued_signal(store: Store, account_pk: int) -> Iterator[asyncio.Event]:
    """An event set whenever an action is queued for the account, while the block runs."""
    event = asyncio.Event()
    key = (id(store), account_pk)
    _listeners.setdefault(key, set()).add(event)
    try:
        yield event
    finally:
        _listeners[key].discard(event)
        if not _listeners[key]:
            del _listeners[key]


def _announce(store: Store, account_pks: set[int]) -> None:
    for account_pk in account_pks:
        for event in _listeners.get((id(store), account_pk), ()):
            event.set()


def _payload(folder: FolderState, pairs: Sequence[tuple[int, int]], **rest: Any) -> dict[str, Any]:
    # None when the folder never completed a SELECT here; replay drops such an action.
    return {"uids": [u for _, u in pairs], "uidvalidity": folder.uidvalidity, **rest}


async def set_flags(
    store: Store,
    ids: Sequence[int],
    add: frozenset[str] = frozenset(),
    remove: frozenset[str] = frozenset(),
) -> None:
    """Change flags now; IMAP folders also get a queued UID STORE."""
    queued: set[int] = set()
    async with store.session() as session:
        await queries.set_flags(session, ids, add, remove)
        for folder_pk, pairs in (await action_queries.uids_of(session, ids)).items():
            folder = await queries.folder_state(session, folder_pk)
            if folder.is_local:
                continue
            await action_queries.queue_action(
                session,
                folder.account_id,
                folder_pk,
                "flags",
                _payload(folder, pairs, add=sorted(add), remove=sorted(remove)),
            )
            queued.add(folder.account_id)
    _announce(store, queued)


async def move(store: Store, ids: Sequence[int], target_pk: int, *, copy: bool = False) -> None:
    """Move (or copy) messages to another folder of the same account."""
    queued: set[int] = set()
    async with store.session() as session:
        target = await queries.folder_state(session, target_pk)
        grouped = await action_queries.uids_of(session, ids)
        for folder_pk, pairs in grouped.items():
            source = await queries.folder_state(session, folder_pk)
            if source.account_id != target.account_id:
                raise NotAllowed("messages can only be moved within one account")
            if not source.is_local:
                await action_queries.queue_action(
                    session,
                    source.account_id,
                    folder_pk,
                    "copy" if copy else "move",
                    _payload(source, pairs, target=target.name),
                )
                queued.add(source.account_id)
        if copy:
            await queries.copy_messages(session, ids, target_pk)
        else:
            await queries.move_messages(session, ids, target_pk)
    _announce(store, queued)


async def delete(store: Store, ids: Sequence[int]) -> None:
    """Delete like mutt with a trash folder: to Trash, or for good when already in Trash."""
    async with store.session() as session:
        by_folder = await queries.folders_of(session, ids)
    for folder_pk, pks in by_folder.items():
        async with store.session() as session:
            folder = await queries.folder_state(session, folder_pk)
            trash = await queries.folder_with_role(session, folder.account_id, "trash")
        if trash is not None and trash.id != folder_pk:
            await move(store, pks, trash.id)
            continue
        async with store.session() as session:
            if not folder.is_local:
                pairs = (await action_queries.uids_of(session, pks)).get(folder_pk, [])
                await action_queries.queue_action(
                    session, folder.account_id, folder_pk, "expunge", _payload(folder, pairs)
                )
            await queries.delete_messages(session, pks)
        if not folder.is_local:
            _announce(store, {folder.account_id})


async def move_back(store: Store, moved: Sequence[Moved]) -> list[int]:
    """Put moved messages back in the folders they came from; returns their ids there.

    A message the server already holds in the target (a sync brought its copy) is moved back
    by UID. One still a stand-in there has no UID yet: its copy is found by Message-ID when
    the queue replays, after the queued move that put it there (the queue keeps its order).
    """
    back: list[int] = []
    by_uid: dict[tuple[int, int], list[tuple[int, int]]] = {}
    by_header: dict[tuple[int, int], list[str]] = {}
    homes: dict[int, list[int]] = {}  # source folder -> ids going back there
    async with store.session() as session:
        for item in moved:
            found = await action_queries.moved_row(
                session, item.target_folder, item.message_id, item.header_id
            )
            if found is None:  # gone meanwhile (deleted for good, or moved on)
                continue
            pk, uid = found
            route = (item.target_folder, item.source_folder)
            if uid is not None:
                by_uid.setdefault(route, []).append((pk, uid))
            elif item.header_id:
                by_header.setdefault(route, []).append(item.header_id)
            back.append(pk)
            homes.setdefault(item.source_folder, []).append(pk)
        for source_pk, pks in homes.items():
            await queries.move_messages(session, pks, source_pk)
        queued: set[int] = set()
        for (target_pk, source_pk), header_ids in by_header.items():
            target = await queries.folder_state(session, target_pk)
            source = await queries.folder_state(session, source_pk)
            if not target.is_local:
                payload = {"message_ids": header_ids, "target": source.name}
                await action_queries.queue_action(
                    session, target.account_id, target_pk, "restore", payload
                )
                queued.add(target.account_id)
        for (target_pk, source_pk), pairs in by_uid.items():
            target = await queries.folder_state(session, target_pk)
            source = await queries.folder_state(session, source_pk)
            payload = _payload(target, pairs, target=source.name)
            await action_queries.queue_action(
                session, target.account_id, target_pk, "move", payload
            )
            queued.add(target.account_id)
    _announce(store, queued)
    return back


async def replay(store: Store, client: ImapClient, account_pk: int) -> list[str]:
    """Send queued actions in order; returns notices for actions that had to be dropped.

    Consecutive actions of the same kind on the same folder (a bulk action queues one per
    batch) go to the server as one command per folder.
    """
    notices: list[str] = []
    async with store.session() as session:
        queued = await action_queries.pending_actions(session, account_pk)
    for group in _runs(queued):
        first = group[0]
        ids = [action.id for action in group]
        async with store.session() as session:
            try:
                folder = await queries.folder_state(session, first.folder_id)
            except MessageNotFound:
                for pk in ids:
                    await action_queries.finish_action(session, pk)
                continue
        payload = {**first.payload, "uids": [u for a in group for u in a.payload.get("uids", [])]}
        try:
            selected = await client.select(folder.name)
            if first.kind != "restore":  # found by Message-ID, not by UID
                _check_uidvalidity(first.payload, folder, selected.uidvalidity)
            await _apply(client, first.kind, payload)
        except MessageNotFound as exc:
            notices.append(f"{first.kind} in {folder.name} dropped: {exc}")
        except ProtocolError as exc:
            async with store.session() as session:
                for action in group:
                    if action.attempts + 1 >= MAX_ATTEMPTS:
                        await action_queries.finish_action(session, action.id)
                    else:
                        await action_queries.fail_action(session, action.id, str(exc))
                if any(action.attempts + 1 >= MAX_ATTEMPTS for action in group):
                    notices.append(f"{first.kind} in {folder.name} dropped after errors: {exc}")
            continue
        async with store.session() as session:
            for pk in ids:
                await action_queries.finish_action(session, pk)
    for notice in notices:
        log.warning("%s", notice)
    return notices


def _check_uidvalidity(
    payload: dict[str, Any], folder: FolderState, uidvalidity: int | None
) -> None:
    """Raise MessageNotFound when the action's UIDs were read under another UIDVALIDITY."""
    # Actions queued by older versions have no "uidvalidity": their UIDs were read under the
    # folder's stored one (a pass replays before it stores a new one), the best guess left.
    recorded = payload.get("uidvalidity", folder.uidvalidity)
    if recorded is None:
        raise MessageNotFound(
            "the folder's UIDVALIDITY was not known when the change was made, so its UIDs "
            "cannot be trusted; nothing was changed there"
        )
    if recorded != uidvalidity:
        raise MessageNotFound(
            "the folder's UIDVALIDITY changed on the server (a migration or a rebuilt "
            "mailbox), so its old UIDs name other messages; nothing was changed there"
        )


def _runs(queued: Sequence[QueuedAction]) -> list[list[QueuedAction]]:
    """Consecutive actions that differ only in their UIDs, grouped (order kept)."""

    def key(action: QueuedAction) -> tuple[int, str, str]:
        rest = {k: v for k, v in action.payload.items() if k != "uids"}
        return action.folder_id, action.kind, json.dumps(rest, sort_keys=True)

    groups: list[list[QueuedAction]] = []
    for action in queued:
        if groups and key(groups[-1][0]) == key(action):
            groups[-1].append(action)
        else:
            groups.append([action])
    return groups


async def _apply(client: ImapClient, kind: str, payload: dict[str, object]) -> None:
    if kind == "restore":
        await _restore(client, payload)
        return
    uids = [int(u) for u in payload.get("uids", [])]  # type: ignore[attr-defined]
    if not uids:
        return
    present: set[int] = set()
    for chunk in uid_set_chunks(uids):  # a command line stays short whatever the selection
        present.update(await client.uid_search(f"UID {chunk}"))
    if not present:
        shown = format_uid_set(uids)
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        raise MessageNotFound(f"message(s) {shown} are no longer on the server")
    uids = [u for u in uids if u in present]
    if kind == "flags":
        add = [str(f) for f in payload.get("add", [])]  # type: ignore[attr-defined]
        remove = [str(f) for f in payload.get("remove", [])]  # type: ignore[attr-defined]
        await client.store_flags(uids, add=add, remove=remove)
    elif kind == "move":
        await client.move(uids, str(payload["target"]))
    elif kind == "copy":
        await client.copy(uids, str(payload["target"]))
    elif kind == "expunge":
        await client.expunge(uids)
    else:
        raise MessageNotFound(f"unknown action {kind!r}")


async def _restore(client: ImapClient, payload: dict[str, object]) -> None:
    """Move messages found by Message-ID back; of several copies, the newest (highest UID) is
    the one the undone action moved in."""
    uids: list[int] = []
    for header_id in payload.get("message_ids", []):  # type: ignore[attr-defined]
        found = await client.uid_search(header_key("Message-ID", str(header_id)))
        if found:
            uids.append(max(found))
    if not uids:
        raise MessageNotFound("the messages to put back are no longer on the server")
    await client.move(uids, str(payload["target"]))
