"""The whole-process measurements of bench_real: floors, tuimail commands, the interface.

Each function runs one process (see ``real_process``) and returns what it measured; each checks
that the process did the work (message counts, exit status) so that a fast failure is never
reported as a fast run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import FIRST_PAINT_CHILD
from bench.real_mailbox import Mailbox
from bench.real_process import Finished, checked, run

ENVELOPE_FLOOR = """
import imaplib, re, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
imap = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=context)
imap.login("bench", "bench")
imap.select("INBOX", readonly=True)
status, data = imap.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE ENVELOPE)")
assert status == "OK", data
start = re.compile(rb"\\d+ \\(")
print(sum(1 for d in data if start.match(d[0] if isinstance(d, tuple) else d)))
imap.logout()
"""
BODY_FLOOR = """
import imaplib, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
imap = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=context)
imap.login("bench", "bench")
status, data = imap.select("INBOX", readonly=True)
exists = int(data[0])
count = size = 0
for first in range(1, exists + 1, 1000):
    status, data = imap.fetch(f"{first}:{min(first + 999, exists)}", "(UID BODY.PEEK[])")
    assert status == "OK", data
    bodies = [d[1] for d in data if isinstance(d, tuple)]
    count += len(bodies)
    size += sum(map(len, bodies))
print(count, size)
imap.logout()
"""
# First paint as in bench_tui (the app headless at 160x48, no sync started), then the
# process stays until the whole folder's order is loaded, so that its peak RSS is that of the
# interface with the big folder open.
TUI_APP = (
    FIRST_PAINT_CHILD
    + """        index = app.screen.query_one(MessageIndex)
        deadline = time.monotonic() + 300
        while index.count < int(sys.argv[3]) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        print(json.dumps({"painted": painted, "count": index.count}))
asyncio.run(main())
"""
)
SEARCH = """
import asyncio, json, sys, time
from pathlib import Path
from tuimail.mail.query import parse_query
from tuimail.store import search_queries
from tuimail.store.db import open_store
async def main():
    store = await open_store(Path(sys.argv[1]))
    times, found = [], 0
    for _ in range(5):
        started = time.perf_counter()
        async with store.session() as session:
            found = len(await search_queries.search(session, parse_query(sys.argv[2])))
        times.append(time.perf_counter() - started)
    await store.close()
    print(json.dumps({"times": times, "found": found}))
asyncio.run(main())
"""


def python(code: str, *arguments: str, env: dict[str, str] | None = None) -> Finished:
    return run([sys.executable, "-c", code, *arguments], env=env)


def envelope_floor(mailbox: Mailbox) -> Finished:
    """imaplib: ``UID FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)`` of INBOX over IMAPS."""
    done = checked(python(ENVELOPE_FLOOR, str(mailbox.imaps_port), str(mailbox.ca_file)), "floor")
    fetched = int(done.stdout.split()[-1])
    if fetched != mailbox.count:
        raise SystemExit(f"the ENVELOPE floor fetched {fetched} of {mailbox.count} messages")
    return done


def body_floor(mailbox: Mailbox) -> Finished:
    """imaplib: ``FETCH n:m (UID BODY.PEEK[])`` of INBOX, 1,000 messages a command, IMAPS."""
    done = checked(python(BODY_FLOOR, str(mailbox.imaps_port), str(mailbox.ca_file)), "floor")
    fetched = int(done.stdout.split()[-2])
    if fetched != mailbox.count:
        raise SystemExit(f"the BODY floor fetched {fetched} of {mailbox.count} messages")
    return done


@dataclass(frozen=True)
class Tuimail:
    """tuimail's config and data directory for one store, and how to run its commands."""

    mailbox: Mailbox
    home: Path
    offline: str = "headers"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def store(self) -> Path:
        return self.data_dir / "mail.sqlite3"

    def config(self) -> dict[str, object]:
        imap = {
            "host": "127.0.0.1",
            "port": self.mailbox.imaps_port,
            "security": "tls",
            "username": "bench",
            "password": "bench",
            "tls_ca_file": str(self.mailbox.ca_file),
        }
        account = {"email": "bench@example.org", "offline": self.offline, "imap": imap}
        return {"accounts": {"bench": account}}

    def write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        lines = ["[accounts.bench]"]
        config = self.config()["accounts"]["bench"]  # type: ignore[index]
        for section in ("", "imap"):
            table = config[section] if section else config
            if section:
                lines.append(f"\n[accounts.bench.{section}]")
            for key, value in table.items():
                if not isinstance(value, dict):
                    lines.append(f"{key} = {json.dumps(value)}")
        path = self.home / "config.toml"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)  # it holds a password: tuimail warns about a readable one
        return path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TUIMAIL_CONFIG": str(self.write_config()),
            "TUIMAIL_DATA_DIR": str(self.data_dir),
            "XDG_CACHE_HOME": str(self.home / "cache"),
        }

    def command(self, *arguments: str) -> Finished:
        """``tuimail ARGUMENTS`` as a user runs it (the console script beside this Python)."""
        script = Path(sys.executable).with_name("tuimail")
        argv = [str(script)] if script.exists() else [sys.executable, "-m", "tuimail"]
        return checked(run([*argv, *arguments], env=self.env()), f"tuimail {' '.join(arguments)}")

    def sync(self, *, cold: bool) -> Finished:
        """``tuimail sync``; cold: into an empty data directory."""
        if cold:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        done = self.command("sync")
        found = re.search(r"bench: (\d+) new", done.stdout)
        if found is None:
            raise SystemExit(f"tuimail sync said: {done.stdout}{done.stderr}")
        new = int(found.group(1))
        if (cold and new < self.mailbox.count) or (not cold and new):
            raise SystemExit(f"tuimail sync ({'cold' if cold else 'again'}): {done.stdout}")
        return done

    def newest_uids(self) -> tuple[Finished, list[int]]:
        """``tuimail list bench/INBOX --limit 50 --json`` and the UIDs it listed."""
        done = self.command("list", "bench/INBOX", "--limit", "50", "--json")
        uids = [json.loads(line)["uid"] for line in done.stdout.splitlines() if line]
        if len(uids) != min(50, self.mailbox.count):
            raise SystemExit(f"tuimail list gave {len(uids)} rows:\n{done.stdout[-2000:]}")
        return done, uids

    def read(self, uid: int) -> Finished:
        done = self.command("read", "bench/INBOX", str(uid))
        if "Subject:" not in done.stdout:
            raise SystemExit(f"tuimail read showed no message:\n{done.stdout[-2000:]}")
        return done

    def search(self, words: str) -> tuple[float, int]:
        """The store's search for ``words`` over every folder, timed inside one process."""
        done = checked(python(SEARCH, str(self.store), words, env=self.env()), "search")
        figures = json.loads(done.stdout.splitlines()[-1])
        return float(figures["times"][0]), int(figures["found"])

    def first_paint(self) -> tuple[float, float]:
        """Seconds from spawning the interface to its first index row, and its peak RSS."""
        config = json.dumps(self.config())
        done = checked(
            python(TUI_APP, str(self.store), config, str(self.mailbox.count), env=self.env()),
            "the interface",
        )
        figures = json.loads(done.stdout.splitlines()[-1])
        if figures["count"] != self.mailbox.count:
            raise SystemExit(f"the interface showed {figures['count']} rows in its first folder")
        return float(figures["painted"]) - done.spawned_at, done.peak_rss_mb

    def stored_bodies(self) -> tuple[int, int]:
        """(messages, bodies) in the store, read by a process of its own after the sync."""
        with sqlite3.connect(f"file:{self.store}?mode=ro", uri=True) as connection:
            messages = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
            bodies = connection.execute("SELECT count(*) FROM message_bodies").fetchone()[0]
        return int(messages), int(bodies)


class BodiesCommitted:
    """Watches a store from outside, as another reader would, for the moment it holds the
    bodies of ``messages`` messages: then they are committed (``at``, a time.time()).

    ``with BodiesCommitted(store, n) as committed: ...run the sync...``; a reader every 20 ms.
    """

    def __init__(self, store: Path, messages: int) -> None:
        self.store = store
        self.messages = messages
        self.at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> BodiesCommitted:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            try:
                with sqlite3.connect(f"file:{self.store}?mode=ro", uri=True) as connection:
                    found = connection.execute("SELECT count(*) FROM message_bodies").fetchone()
            except sqlite3.Error:
                continue  # not created yet, or being created
            if found[0] >= self.messages:
                self.at = time.time()
                return


def bare_paint() -> float:
    """A bare Textual app painting one static line (bench_tui's floor), spawn to paint."""
    from bench.bench_tui import BARE_APP

    done = checked(python(BARE_APP), "the bare Textual app")
    return float(done.stdout.splitlines()[-1]) - done.spawned_at
