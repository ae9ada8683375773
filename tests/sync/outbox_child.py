"""Run one outbox flush in a child process that the crash tests kill with SIGKILL.

Usage: ``python -m tests.sync.outbox_child '<json>'`` with store, host, port, ca_file, username,
password and pause. ``pause`` names where the child stops and waits to be killed, after
printing ``paused <point>``:

* ``connect``: "sending" is committed, the SMTP connection is not yet opened;
* ``accepted``: the server accepted DATA, "sent" is not yet committed;
* ``sink``: "sent" is committed, the Sent copy is being saved, the row is not yet deleted;
* ``none``: run to the end (the DATA-phase test holds the server instead) and print ``done``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tuimail.config import AccountConfig, ServerConfig
from tuimail.protocols import smtp
from tuimail.store.db import open_store
from tuimail.sync.outbox import Outbox

ACCOUNT = "work"


def account_config(
    host: str, port: int, ca_file: Path, username: str, password: str, security: str = "starttls"
) -> AccountConfig:
    """A config for the test server's STARTTLS port (password in the config, CA from trustme)."""
    return AccountConfig(
        email="sender@example.org",
        display_name="Sender",
        imap=ServerConfig(host="127.0.0.1"),
        smtp=ServerConfig(
            host=host,
            port=port,
            security=security,  # type: ignore[arg-type]
            username=username,
            password=SecretStr(password),
            tls_ca_file=ca_file,
            timeout=5,
        ),
    )


def _pause_here(point: str) -> None:
    print(f"paused {point}", flush=True)
    threading.Event().wait()  # blocks the whole process until the test kills it


async def main(args: dict[str, Any]) -> None:
    pause = args["pause"]
    store = await open_store(Path(args["store"]))

    async def send(
        settings: smtp.SmtpSettings, raw: bytes, sender: str, recipients: Sequence[str], **kw: Any
    ) -> smtp.SendResult:
        if pause == "connect":
            _pause_here(pause)
        result = await smtp.send(settings, raw, sender, recipients, **kw)
        if pause == "accepted":
            _pause_here(pause)
        return result

    async def sent_sink(account: str, raw: bytes) -> None:
        if pause == "sink":
            _pause_here(pause)

    config = account_config(
        args["host"], args["port"], Path(args["ca_file"]), args["username"], args["password"]
    )
    outbox = Outbox(
        store, {ACCOUNT: config}, sent_sink=sent_sink, send=send, local_hostname="child.test"
    )
    report = await outbox.flush()
    await store.close()
    print(f"done sent={len(report.sent)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
