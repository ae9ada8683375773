"""Moves messages the way the interface does and SIGKILLs itself at a chosen point, for
tests/reliability/test_crash_bulk_move.py.

``main(args)`` with args: table, store, batch (IMAP header batch), kill and, optionally, move:
{"source": FOLDER, "target": FOLDER, "every": N}. With ``move`` it applies
``StoreMailService.apply(MailAction("move", ...))`` to every N-th message of the source (by UID)
and then runs ``StoreMailService.sync``, whose action replay sends the MOVE to the server; without
it, only the sync. It prints ``started`` before it opens the store and ``done`` at the end.

``kill`` is "none" (the test may kill it from outside) or "POINT:N", the N-th time POINT is
reached in this run:

* ``in_move``: the store has moved the rows and queued the action, not yet committed;
* ``before_replay``: the move is committed in the store, nothing has reached the server;
* ``before_server_move``: the replay is about to send UID MOVE;
* ``between_chunks``: the server has done one UID MOVE of several (a scattered selection);
* ``after_server_move``: the server has moved everything, the action is still queued;
* ``after_replay``: the queue is empty, the target folder still shows the local rows;
* ``in_drop``: the target's local rows are deleted, not yet committed;
* ``batch``: a batch of the server's copies is committed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tuimail.config import parse_config
from tuimail.protocols import imap_messages
from tuimail.protocols.imap import ImapClient
from tuimail.store import action_queries, queries
from tuimail.store.db import open_store
from tuimail.sync import actions, imap_sync
from tuimail.sync.interface import MailAction
from tuimail.sync.service import StoreMailService

counts: dict[str, int] = {}
wanted: tuple[str, int] = ("none", 0)
target_pk: list[int] = []


def reached(point: str) -> None:
    counts[point] = counts.get(point, 0) + 1
    if (point, counts[point]) == wanted:
        os.kill(os.getpid(), signal.SIGKILL)


def install_hooks() -> None:
    original_move_rows = queries.move_messages

    async def move_messages(*args: Any, **kwargs: Any) -> None:
        await original_move_rows(*args, **kwargs)
        reached("in_move")

    setattr(queries, "move_messages", move_messages)  # noqa: B010

    original_chunks = getattr(imap_messages, "uid_set_chunks")  # noqa: B009

    def chunks(*args: Any, **kwargs: Any) -> Iterator[str]:
        for number, chunk in enumerate(original_chunks(*args, **kwargs)):
            if number:
                reached("between_chunks")
            yield chunk

    original_move = ImapClient.move

    async def move(self: ImapClient, *args: Any, **kwargs: Any) -> dict[int, int]:
        reached("before_server_move")
        setattr(imap_messages, "uid_set_chunks", chunks)  # noqa: B010
        try:
            mapping = await original_move(self, *args, **kwargs)
        finally:
            setattr(imap_messages, "uid_set_chunks", original_chunks)  # noqa: B010
        reached("after_server_move")
        return mapping

    setattr(ImapClient, "move", move)  # noqa: B010

    original_replay = actions.replay

    async def replay(*args: Any, **kwargs: Any) -> list[str]:
        notices = await original_replay(*args, **kwargs)
        reached("after_replay")
        return notices

    setattr(actions, "replay", replay)  # noqa: B010

    original_drop = action_queries.drop_placeholders

    async def drop_placeholders(
        session: Any, folder_pk: int, message_ids: Sequence[str] | None = None
    ) -> None:
        await original_drop(session, folder_pk, message_ids)
        if folder_pk in target_pk:
            reached("in_drop")

    setattr(action_queries, "drop_placeholders", drop_placeholders)  # noqa: B010


async def main(args: dict[str, Any]) -> None:
    global wanted
    point, _, nth = str(args["kill"]).partition(":")
    wanted = (point, int(nth or 0))
    imap_sync.HEADER_BATCH = int(args["batch"])
    install_hooks()
    config = parse_config({"accounts": {"x": args["table"]}})
    print("started", flush=True)
    store = await open_store(Path(args["store"]))
    try:
        service = StoreMailService(store, config)
        service.subscribe(lambda event: reached("batch") if getattr(event, "done", 0) else None)
        if args.get("move"):
            await move(service, **args["move"])
        finished = await service.sync("x")
    finally:
        await store.close()
    if not finished.outcome.ok:
        sys.exit(f"sync failed: {finished.outcome.summary}")
    print("done", finished.outcome.summary, flush=True)


async def move(service: StoreMailService, source: str, target: str, every: int) -> None:
    (account,) = await service.accounts()
    folders = {f.name: f for f in account.folders}
    target_pk.append(folders[target].id)
    rows = await service.rows(await service.message_ids(folders[source].id))
    chosen = [row.id for row in sorted(rows, key=lambda r: r.uid or 0)][::every]
    await service.apply(MailAction("move", tuple(chosen), folders[target].id))
    reached("before_replay")


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
