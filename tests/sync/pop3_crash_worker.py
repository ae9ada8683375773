"""Runs one POP3 download in its own process and SIGKILLs itself at a chosen point.

Usage: python -m tests.sync.pop3_crash_worker CONFIG_JSON DATA_DIR KILL_SPEC
KILL_SPEC: "none", "timer:MS" (a thread kills the process after MS milliseconds, anywhere), or
"POINT:N" with POINT one of before_commit, after_commit, before_dele, after_dele, after_quit
(kill at the N-th time the point is reached).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuimail.config import parse_config
from tuimail.protocols.pop3 import Pop3Client
from tuimail.store import pop3_queries
from tuimail.store.db import open_store
from tuimail.sync import pop3_fetch
from tuimail.sync.accounts import sync_pop3

counts: dict[str, int] = {}


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def make_point(point: str, wanted: str, nth: int) -> Callable[[], None]:
    def reached() -> None:
        counts[point] = counts.get(point, 0) + 1
        if point == wanted and counts[point] == nth:
            die()

    return reached


def install(spec: str) -> Callable[[Any], None] | None:
    if spec == "none":
        return None
    if spec.startswith("timer:"):
        return None  # started in main(), once imports are done and the download begins
    wanted, nth_text = spec.split(":")
    nth = int(nth_text)
    points = {
        p: make_point(p, wanted, nth)
        for p in ("before_commit", "after_commit", "before_dele", "after_dele", "after_quit")
    }

    original_store = pop3_queries.store_downloaded

    async def store_downloaded(*args: Any, **kwargs: Any) -> list[int]:
        points["before_commit"]()
        return await original_store(*args, **kwargs)

    pop3_queries.store_downloaded = store_downloaded  # type: ignore[assignment]
    original_dele = Pop3Client.dele_many

    async def dele_many(self: Pop3Client, *args: Any, **kwargs: Any) -> None:
        points["before_dele"]()
        await original_dele(self, *args, **kwargs)
        points["after_dele"]()

    Pop3Client.dele_many = dele_many  # type: ignore[method-assign]
    original_quit = Pop3Client.quit

    async def quit_(self: Pop3Client) -> None:
        await original_quit(self)
        points["after_quit"]()

    Pop3Client.quit = quit_  # type: ignore[method-assign]
    # Progress is reported right after each batch's commit returns.
    return lambda _progress: points["after_commit"]()


async def main() -> None:
    table = json.loads(sys.argv[1])
    data_dir = Path(sys.argv[2])
    progress = install(sys.argv[3])
    pop3_fetch.BATCH_MESSAGES = 7  # several commits per run, so kills land between them
    account = parse_config({"accounts": {"x": table}}).account("x")
    store = await open_store(data_dir / "mail.sqlite3")
    spec = sys.argv[3]
    if spec.startswith("timer:"):
        delay = int(spec.split(":")[1]) / 1000
        threading.Thread(target=lambda: (time.sleep(delay), die()), daemon=True).start()
    started = time.monotonic()
    try:
        print(await sync_pop3(store, "x", account, progress))
        print(f"elapsed_ms={int((time.monotonic() - started) * 1000)}")
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
