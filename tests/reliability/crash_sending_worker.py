"""Flushes the outbox of a store in a forked child that the test kills at a random moment, for
tests/reliability/test_crash_sending.py.

``main(args)`` with args: store, host, port, ca_file, username, password. It prints ``started``
before it opens the store, then ``done SENT`` once the flush has ended.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from tests.sync.outbox_child import ACCOUNT, account_config
from tuimail.store.db import open_store
from tuimail.sync.outbox import Outbox


async def ignore_sent_copy(account: str, raw: bytes) -> None:
    return None


async def main(args: dict[str, Any]) -> None:
    config = account_config(
        args["host"], args["port"], Path(args["ca_file"]), args["username"], args["password"]
    )
    print("started", flush=True)
    store = await open_store(Path(args["store"]))
    try:
        outbox = Outbox(
            store, {ACCOUNT: config}, sent_sink=ignore_sent_copy, local_hostname="crash.test"
        )
        report = await outbox.flush()
    finally:
        await store.close()
    print("done", len(report.sent), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
