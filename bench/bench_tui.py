"""The reading interface on a 100k-message folder: first paint, folder open, cursor steps, RSS.

    python -m bench.bench_tui [--count 100000] [--steps 1000]

A store with one INBOX of ``count`` envelopes (threads, names, subjects from the demo mailbox's
vocabulary) and a small Archive is built with ``queries.insert_messages``. The app then runs
headless at 160x48:

* first paint: from starting a Python process (interpreter, imports, store, app) to the first
  index line drawn from a real row; "app start" is the same from creating the app object;
* folder open: from choosing INBOX (coming from Archive) to its first row painted;
* cursor step: from the ``j`` key event to the repaint of the new cursor line, over ``steps``;
* RSS: the resident set of the app's process (a child of the benchmark, so that building
  the store does not count) with the app running on the big folder.

Floors measured in the same run: a bare Textual app's first paint (a process of its own, same
clock), and sqlite3 reading the
folder's ordered ids plus one page of rows (what opening a folder must at least do).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from textual import events

from bench.common import FIRST_PAINT_CHILD, fmt, peak_rss_mb
from tuimail.config import parse_config
from tuimail.demo.mailbox import PEOPLE, TOPICS
from tuimail.mail.envelope import Address, Envelope
from tuimail.store import queries
from tuimail.store.db import open_store
from tuimail.store.records import NewMessage
from tuimail.ui.app import TuimailApp
from tuimail.ui.messages import FolderChosen
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.message_index import MessageIndex

SIZE = (160, 48)
TARGETS = {"first paint": 1.0, "folder open": 0.3, "cursor step p99": 0.030, "RSS": 200.0}


def envelopes(count: int, seed: int = 3) -> list[NewMessage]:
    """Envelopes like a real mailbox's: 40% replies into recent threads, seen or not."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    recent: list[tuple[str, tuple[str, ...], str]] = []
    out = []
    for n in range(count):
        message_id = f"<{n}@bench.example>"
        name, email = PEOPLE[rng.randrange(len(PEOPLE))]
        if recent and rng.random() < 0.4:
            parent, refs, subject = rng.choice(recent)
            references = (*refs, parent)[-10:]
            subject = subject if subject.startswith("Re: ") else f"Re: {subject}"
            in_reply_to: str | None = parent
        else:
            references, in_reply_to = (), None
            subject = f"{rng.choice(TOPICS)} ({n})"
        recent.append((message_id, references, subject))
        if len(recent) > 50:
            recent.pop(0)
        envelope = Envelope(
            message_id=message_id,
            subject=subject,
            from_=(Address(name, email),),
            to=(Address("Ann Example", "ann@example.org"),),
            date=start + timedelta(minutes=20 * n),
            in_reply_to=in_reply_to,
            references=references,
            size=rng.randrange(400, 90_000),
            has_attachments=rng.random() < 0.1,
        )
        flags = frozenset({"\\Seen"}) if rng.random() < 0.7 else frozenset()
        out.append(NewMessage(envelope=envelope, uidl=f"u{n}", flags=flags))
    return out


async def build_store(path: Path, count: int) -> dict[str, int]:
    store = await open_store(path)
    try:
        async with store.session() as session:
            account = await queries.ensure_account(session, "home", "pop3", "ann@example.org")
            inbox = await queries.ensure_folder(
                session, account, "INBOX", role="inbox", is_local=True
            )
            archive = await queries.ensure_folder(session, account, "Archive", is_local=True)
            batch = envelopes(count)
            for first in range(0, count, 10_000):
                await queries.insert_messages(session, inbox, batch[first : first + 10_000])
            await queries.insert_messages(session, archive, envelopes(200, seed=4))
            for folder in (inbox, archive):
                await queries.refresh_counts(session, folder)
    finally:
        await store.close()
    return {"INBOX": inbox, "Archive": archive}


async def until(condition: Callable[[], bool], poll: float = 0.0005) -> None:
    """Yield to the app until ``condition()`` holds, looking every ``poll`` seconds.

    A short poll keeps the error of a measurement small; a zero poll would spin and take the
    GIL from the store's worker thread.
    """
    deadline = time.perf_counter() + 60
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(poll)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


# The first-paint children import only what they run, as ``tuimail`` itself would.
BARE_APP = """
import asyncio, time
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
async def main():
    async with Bare().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        print(time.time())
asyncio.run(main())
"""
TUIMAIL_APP = (
    FIRST_PAINT_CHILD
    + """        print(painted)
asyncio.run(main())
"""
)
CONFIG = {
    "accounts": {
        "home": {
            "email": "ann@example.org",
            "pop3": {"host": "localhost", "port": 9, "security": "none"},
        }
    }
}


def first_paint(code: str, *arguments: str) -> float:
    """Seconds from starting a Python process running ``code`` to the time it prints."""
    spawned = time.time()
    output = subprocess.run(
        [sys.executable, "-c", code, *arguments], check=True, capture_output=True, text=True
    ).stdout
    return float(output.strip().splitlines()[-1]) - spawned


def sqlite_floor(path: Path, folder: int) -> float:
    started = time.perf_counter()
    with sqlite3.connect(path) as connection:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM messages WHERE folder_id = ? ORDER BY date DESC, id DESC",
                (folder,),
            )
        ]
        marks = ",".join("?" * 200)
        connection.execute(f"SELECT * FROM messages WHERE id IN ({marks})", ids[:200]).fetchall()
    return time.perf_counter() - started


async def measure(path: Path, folders: dict[str, int], count: int, steps: int) -> dict[str, object]:
    started = time.perf_counter()
    app = TuimailApp(parse_config(CONFIG), store_path=path, start_sync=False)
    results: dict[str, object] = {}
    async with app.run_test(size=SIZE):
        await until(lambda: isinstance(app.screen, MainScreen))
        index = app.screen.query_one(MessageIndex)

        def opened(folder: int) -> bool:
            return index.folder_id == folder and index.current_row is not None

        def painted_past(before: int) -> bool:
            return index.rows_painted > before

        def stepped(cursor: int, painted: int) -> bool:
            return index.cursor == cursor + 1 and index.rows_painted > painted

        await until(lambda: index.rows_painted > 0)
        results["app start"] = time.perf_counter() - started
        await until(lambda: index.count == count)

        opens = []
        for _ in range(5):
            for name in ("Archive", "INBOX"):
                folder = folders[name]
                began = time.perf_counter()
                app.screen.post_message(FolderChosen(folder))
                await until(partial(opened, folder))
                await until(partial(painted_past, index.rows_painted))
                if name == "INBOX":
                    opens.append(time.perf_counter() - began)
        results["folder open"] = opens
        # An opened folder shows its first screen before its whole order has been read: step
        # through the folder once all of it is there.
        await until(lambda: index.count == count)

        index.focus()
        await until(lambda: app.focused is index)
        driver = app._driver
        assert driver is not None
        times: list[float] = []
        for _ in range(steps):
            cursor, painted = index.cursor, index.rows_painted
            began = time.perf_counter()
            key = events.Key("j", "j")
            key.set_sender(app)
            driver.send_message(key)
            try:
                await until(partial(stepped, cursor, painted), 0)
            except TimeoutError:
                state = f"cursor {index.cursor} (was {cursor}), rows painted {index.rows_painted}"
                state += f" (was {painted}), focus {app.focused!r}, pages {index._pages.loading}"
                state += f", count {index.count}, screen {app.screen!r}, top {index.top}"
                raise TimeoutError(f"step {len(times)} did not paint: {state}") from None
            times.append(time.perf_counter() - began)
        results["cursor step"] = times
        results["RSS"] = rss_mb()
    return results


def child(path: Path, folders: dict[str, int], count: int, steps: int) -> None:
    """Run in a child process: measure the app and print the results as JSON."""
    print(json.dumps(asyncio.run(measure(path, folders, count, steps))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, folders = args.child.split("|", 1)
        child(Path(path), json.loads(folders), args.count, args.steps)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mail.sqlite3"
        built = time.perf_counter()
        folders = asyncio.run(build_store(path, args.count))
        print(f"store: {args.count} messages in {time.perf_counter() - built:.1f} s", flush=True)
        floor_paint = statistics.median(first_paint(BARE_APP) for _ in range(3))
        paint = statistics.median(
            first_paint(TUIMAIL_APP, str(path), json.dumps(CONFIG)) for _ in range(3)
        )
        floor_open = statistics.median(sqlite_floor(path, folders["INBOX"]) for _ in range(5))
        command = [sys.executable, "-m", "bench.bench_tui", "--count", str(args.count)]
        command += ["--steps", str(args.steps), "--child", f"{path}|{json.dumps(folders)}"]
        child_run = subprocess.run(command, capture_output=True, text=True)
        if child_run.returncode:
            raise SystemExit(f"the measuring child failed:\n{child_run.stderr[-3000:]}")
        output = child_run.stdout
        results = json.loads(output.strip().splitlines()[-1])
    steps = sorted(results["cursor step"])
    p99 = steps[min(len(steps) - 1, round(len(steps) * 0.99))]
    opens = statistics.median(results["folder open"])
    rows = [
        ("first paint", paint, floor_paint, "bare Textual app"),
        ("app start", results["app start"], None, "app object to first row"),
        ("folder open", opens, floor_open, "sqlite3: ordered ids + one page"),
        ("cursor step median", statistics.median(steps), None, ""),
        ("cursor step p99", p99, None, ""),
    ]
    print(f"\n### tuimail reading interface, {args.count} messages, 160x48 headless\n")
    print("| measure | tuimail | floor | × floor | target | met |")
    print("|---|---:|---:|---:|---:|---|")
    for name, value, floor, what in rows:
        value = float(value)
        target = TARGETS.get(name)
        ratio = f"{value / floor:.2f}" if floor else ""
        shown_floor = f"{fmt(floor)} ({what})" if floor else ""
        met = "" if target is None else ("yes" if value < target else "NO")
        target_text = f"< {fmt(target)}" if target else ""
        print(f"| {name} | {fmt_ms(value)} | {shown_floor} | {ratio} | {target_text} | {met} |")
    rss = float(results["RSS"])
    print(f"| RSS | {rss:.0f} MB | | | < 200 MB | {'yes' if rss < TARGETS['RSS'] else 'NO'} |")


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else fmt(seconds)


if __name__ == "__main__":
    main()
