"""Queue one message with a send delay in a child process, then wait to be killed (SIGKILL)
during the delay, as the interface does while it counts down "Sending in 8 s".

Usage: ``python -m tests.sync.outbox_delay_child '<json>'`` with store, host, port, ca_file,
username, password and delay; prints ``queued <id>`` once the message is committed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.sync.outbox_child import ACCOUNT, account_config
from tuimail.mail.compose import Identity, finalize, new_message
from tuimail.store.db import open_store
from tuimail.sync.outbox import Outbox

ME = Identity("sender@example.org", "Zoë Sender", "Zoë")


async def _ignore(account: str, raw: bytes) -> None:
    return None


async def main(args: dict[str, Any]) -> None:
    store = await open_store(Path(args["store"]))
    config = account_config(
        args["host"], args["port"], Path(args["ca_file"]), args["username"], args["password"]
    )
    outbox = Outbox(store, {ACCOUNT: config}, sent_sink=_ignore)
    raw, sender, recipients = finalize(new_message(ME, ["ann@example.com"], [], [], "x", "x"), ME)
    due = int(time.time()) + args["delay"]
    outbox_id = await outbox.submit(ACCOUNT, raw, sender, recipients, send_at=due)
    print(f"queued {outbox_id}", flush=True)
    threading.Event().wait()  # "Sending in 8 s": the whole process waits to be killed


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
