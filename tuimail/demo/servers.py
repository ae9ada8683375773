"""The demo's servers together: IMAP, POP3 and SMTP on free loopback ports, in one thread.

The servers run on an event loop of their own in a background thread, not on the interface's
loop: Textual owns its loop for as long as ``App.run`` runs, the servers must be up before it
starts and down after it ends, and filling a few hundred messages should not stall the screen.
``stop`` ends that loop through ``asyncio.run``'s own shutdown, which cancels and waits for
every task still there, so nothing of the servers outlives it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuimail.config import LoadedConfig, parse_config
from tuimail.demo import seed
from tuimail.demo.imap_server import DemoImapServer
from tuimail.demo.pop3_server import DemoPop3Server
from tuimail.demo.smtp_server import DemoSmtpServer

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
IMAP_ADDRESS = "you@demo.tuimail.test"
POP3_ADDRESS = "pop@demo.tuimail.test"
PASSWORD = "demo"  # a constant of servers that live and die with this process
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL_INTERVAL = 10  # the config's minimum: new mail shows up quickly in the demo


@dataclass(frozen=True, slots=True)
class DemoPorts:
    """Where the demo servers listen (all on ``host``)."""

    host: str
    imap: int
    pop3: int
    smtp: int


class DemoServers:
    """Start, describe and stop the demo servers; use once (start, then stop)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self.imap = DemoImapServer(IMAP_ADDRESS, PASSWORD)
        self.pop3 = DemoPop3Server(
            POP3_ADDRESS, PASSWORD, seed.pop3_messages(POP3_ADDRESS, self.now)
        )
        self.smtp = DemoSmtpServer(
            {IMAP_ADDRESS: PASSWORD, POP3_ADDRESS: PASSWORD},
            {IMAP_ADDRESS: self.imap.deliver, POP3_ADDRESS: self.pop3.deliver},
        )
        self.folders = seed.imap_folders(IMAP_ADDRESS, self.now)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.ports: DemoPorts | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> DemoPorts:
        """Start every server on a free loopback port; returns the ports once all listen."""
        if self._thread is not None:
            raise RuntimeError("the demo servers were started already")
        self._thread = threading.Thread(target=self._run, name="tuimail-demo-servers", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"the demo servers did not start within {START_TIMEOUT:.0f} s")
        if self._error is not None:
            self.stop()
            raise RuntimeError(f"the demo servers could not start: {self._error}") from self._error
        assert self.ports is not None
        return self.ports

    def stop(self) -> None:
        """Stop every server and end their thread; safe to call more than once."""
        thread = self._thread
        if thread is None:
            return
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and thread.is_alive():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:  # the loop closed in the meantime: nothing left to stop
                log.debug("demo servers: loop already closed")
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"the demo servers did not stop within {STOP_TIMEOUT:.0f} s")

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # reported to the starting thread; nothing else can catch it
            log.exception("demo servers failed")
            self._error = exc
        finally:
            self._ready.set()  # wake start() even when starting failed

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            imap = await self.imap.start(HOST, self.folders)
            pop3 = await self.pop3.start(HOST)
            smtp = await self.smtp.start(HOST)
            self.ports = DemoPorts(HOST, imap, pop3, smtp)
            log.info("demo servers listening on %s", self.ports)
            self._ready.set()
            await self._stopping.wait()
        finally:
            for server in (self.smtp, self.pop3, self.imap):
                await server.stop()
            log.info("demo servers stopped")

    # -- what a client needs ------------------------------------------------------------------

    def config_tables(self) -> dict[str, dict[str, Any]]:
        """The ``[accounts]`` tables of the demo: ``demo`` (IMAP) and ``demo-pop`` (POP3)."""
        if self.ports is None:
            raise RuntimeError("the demo servers are not running")
        ports = self.ports

        def server(port: int, username: str) -> dict[str, Any]:
            return {
                "host": ports.host,
                "port": port,
                "security": "none",
                "username": username,
                "password": PASSWORD,
                "timeout": 10.0,
            }

        return {
            "demo": {
                "email": IMAP_ADDRESS,
                "display_name": "You (demo)",
                "imap": server(ports.imap, IMAP_ADDRESS),
                "smtp": server(ports.smtp, IMAP_ADDRESS),
                "poll_interval": POLL_INTERVAL,
            },
            "demo-pop": {
                "email": POP3_ADDRESS,
                "display_name": "You (POP3 demo)",
                "pop3": server(ports.pop3, POP3_ADDRESS),
                "smtp": server(ports.smtp, POP3_ADDRESS),
                "poll_interval": POLL_INTERVAL,
            },
        }

    def loaded_config(self) -> LoadedConfig:
        """The demo accounts as a validated config, without the clear-text password warnings.

        The passwords are constants of servers that live and die with this process: a warning
        about them would only alarm a visitor.
        """
        loaded = parse_config({"accounts": self.config_tables()})
        loaded.warnings = [w for w in loaded.warnings if "clear text" not in w]
        return loaded

    def write_info(self, path: Path, temp_dir: Path) -> None:
        """Write the ports and the temporary dir as JSON (``TUIMAIL_DEMO_INFO``: tests read it)."""
        if self.ports is None:
            raise RuntimeError("the demo servers are not running")
        info = {**asdict(self.ports), "temp_dir": str(temp_dir), "address": IMAP_ADDRESS}
        path.write_text(json.dumps(info))
