"""Runs one IMAP sync pass (``sync_account``, as `tuimail sync` does) and SIGKILLs itself at a
chosen point, for tests/reliability/test_crash_imap_sync.py and test_second_instance.py.

Usage: python -m tests.reliability.crash_imap_sync_worker '{"table": ..., "store": ..., "kill":
..., "batch": N}'. It prints ``started`` before it opens the store, then ``done SUMMARY``.
``kill`` is "none" (the test may kill it from outside) or "POINT:N", the N-th time POINT is
reached in this run. ``pause`` ("POINT:N", with ``release``, a FIFO) instead prints
``paused PID`` there and waits, holding the store, until the test opens the FIFO for writing.
Points:

* ``batch``: a header batch is committed (the progress callback runs after the commit);
* ``in_batch``: a batch is inserted, its transaction not yet committed;
* ``before_state``: every new message of a folder is committed, its UIDVALIDITY/UIDNEXT/MODSEQ
  not yet saved;
* ``in_flags``: flag changes are written, their transaction not yet committed;
* ``in_expunge``: expunged messages are deleted, their transaction not yet committed;
* ``in_schema``: a CREATE statement of a new store's schema has run, its transaction open;
* ``in_bodies``: a batch of downloaded bodies (offline = "full") is written, not yet committed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tuimail.config import parse_config
from tuimail.store import body_index_queries, queries, schema
from tuimail.store.db import open_store
from tuimail.sync import imap_sync
from tuimail.sync.accounts import sync_account

counts: dict[str, int] = {}
wanted: tuple[str, int] = ("none", 0)
pause: tuple[str, int] = ("none", 0)
release = ""


def point_of(spec: str) -> tuple[str, int]:
    point, _, nth = spec.partition(":")
    return point, int(nth or 0)


def reached(point: str) -> None:
    counts[point] = counts.get(point, 0) + 1
    if (point, counts[point]) == wanted:
        os.kill(os.getpid(), signal.SIGKILL)
    if (point, counts[point]) == pause:
        # Hold the store open, mid-sync, until the test opens the FIFO ``release`` to write.
        print("paused", os.getpid(), flush=True)
        os.close(os.open(release, os.O_RDONLY))


def wrap(name: str, point: str, *, before: bool, module: Any = queries) -> None:
    original: Callable[..., Any] = getattr(module, name)

    async def hooked(*args: Any, **kwargs: Any) -> Any:
        if before:
            reached(point)
        result = await original(*args, **kwargs)
        if not before:
            reached(point)  # inside the caller's transaction: dying here rolls it back
        return result

    setattr(module, name, hooked)


def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.lstrip().upper().startswith("CREATE"):
        reached("in_schema")  # a store migrated by Alembic


class WatchedSchema(tuple[str, ...]):
    """``schema.STATEMENTS`` that reach ``in_schema`` after each CREATE has run."""

    def __iter__(self) -> Iterator[str]:
        for statement in super().__iter__():
            yield statement  # create_at_head runs it before it asks for the next one
            if statement.startswith("CREATE"):
                reached("in_schema")


async def main(args: dict[str, Any]) -> None:
    global wanted, pause, release
    wanted = point_of(args["kill"])
    pause = point_of(args.get("pause", "none"))
    release = args.get("release", "")
    imap_sync.HEADER_BATCH = int(args["batch"])  # many commits per folder, so kills land between
    wrap("insert_header_values", "in_batch", before=False)
    wrap("set_folder_sync_state", "before_state", before=True)
    wrap("update_flags_by_uid", "in_flags", before=False)
    wrap("delete_uids", "in_expunge", before=False)
    imap_sync.BODY_BATCH = int(args.get("body_batch", imap_sync.BODY_BATCH))
    wrap("store_bodies", "in_bodies", before=False, module=body_index_queries)
    event.listen(Engine, "after_cursor_execute", on_statement)
    schema.STATEMENTS = WatchedSchema(schema.STATEMENTS)
    account = parse_config({"accounts": {"x": args["table"]}}).account("x")
    print("started", flush=True)
    store = await open_store(Path(args["store"]))
    try:
        outcome = await sync_account(store, "x", account, lambda _p: reached("batch"))
    finally:
        await store.close()
    if not outcome.ok:
        sys.exit(f"sync failed: {outcome.summary}")
    print("done", outcome.summary, flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
