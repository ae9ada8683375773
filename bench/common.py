"""Shared bits of the benchmarks: a private Dovecot, timing, RSS, and the results table."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.harness.dovecot import Dovecot, start_dovecot

# The start of a child that times the interface's first paint: the app headless at 160x48, no
# sync started, on the store argv[1] with the config argv[2] (JSON); ``painted`` is that moment.
# Each bench ends it its own way (bench_tui prints the time, bench_real waits for the folder).
FIRST_PAINT_CHILD = """
import asyncio, json, sys, time
from pathlib import Path
from tuimail.config import parse_config
from tuimail.ui.app import TuimailApp
from tuimail.ui.widgets.message_index import MessageIndex
async def main():
    config = parse_config(json.loads(sys.argv[2]))
    app = TuimailApp(config, store_path=Path(sys.argv[1]), start_sync=False)
    async with app.run_test(size=(160, 48)):
        while not any(index.rows_painted for index in app.screen.query(MessageIndex)):
            await asyncio.sleep(0.0005)
        painted = time.time()
"""


@dataclass
class Row:
    """One line of a results table: our figure beside the floor measured in the same run."""

    group: str
    name: str
    seconds: list[float]
    reference: str | None = None  # the floor's row; None: this is a floor; "": no floor
    what: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` calls."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    """A private Dovecot for one benchmark run."""
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def print_table(title: str, rows: list[Row]) -> str:
    """Print (and return) a Markdown table with medians and ratios to each row's reference."""
    medians = {r.name: r.median for r in rows}
    lines = [
        f"### {title}",
        "",
        "| benchmark | runs | min | median | × floor | what |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = "1.00" if r.reference is None else "—"
        if r.reference in medians:
            ratio = f"{r.median / medians[r.reference]:.2f}"
        lines.append(
            f"| {r.name} | {len(r.seconds)} | {fmt(min(r.seconds))} | {fmt(r.median)} | "
            f"{ratio} | {r.what} |"
        )
    text = "\n".join(lines)
    print(text, flush=True)
    return text
