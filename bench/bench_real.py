"""tuimail on the independent mailbox, beside neomutt and the imaplib floor, whole processes.

    python -m bench.bench_real [--count 100000] [--seed 42] [--runs 3] [--only ROWS]
                               [--base DIR] [--full-count 10000] [--small-count 2000]

(neomutt's rows need ``apt-get install -y neomutt``; without it they are skipped.)

The mailbox is the shared generator's (``../shared/bench/genmail.py``, or $TUIMAIL_SHARED_BENCH),
served by its private Dovecot (``mailserver.sh``) on 127.0.0.1 over IMAPS; BASE (default
/tmp/tuimail-bench-real/n<count>-s<seed>) keeps the generated mail, which is made again only
for another -n/--seed. The ``full`` rows use BASE-full<N> with ``--full-count`` messages, on
the ports of $IMAPS_PORT etc. plus 100; the ``small`` rows (the interface's first paint on a
small mailbox, as the target asks for it at 2k and 100k alike) BASE-small<N> with
``--small-count``, ports plus 200. Each set runs its own invocations after the one before has
stopped its Dovecot (one started here is stopped at the end; one already running is left).

Every figure is one whole process, from spawn to exit, ``--runs`` invocations; each invocation
measures every row once, in this order, so that a ratio compares figures taken side by side:

* floor: a ``python -c`` imaplib script, ``UID FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)`` of
  INBOX (EXAMINE), every response kept in memory, not parsed;
* neomutt: cold (empty header cache) then warm (the header cache the cold run just wrote) open
  of INBOX on a 160x48 pty, drawing the index, then quitting (``bench/real_neomutt.py`` says
  exactly how; ``sleep_time=0`` so its one-second pause after a message does not count);
* sync: ``tuimail sync`` into an empty data directory (every folder: INBOX and the generator's
  five small ones, about 8% more messages than the floor fetches; the search indexing that
  ends the command included), then ``tuimail sync`` again, nothing changed;
* cli: ``tuimail list bench/INBOX --limit 50 --json``, ``tuimail read bench/INBOX UID`` of the
  newest message twice (its body fetched from the server, then from the store), ``tuimail
  --version``;
* search: two words (``--words``) over every folder with the store's search function, timed
  inside one process after opening the store (the first query of that process);
* tui: a bare Textual app painting one static line (bench_tui's floor), then tuimail's interface
  (headless at 160x48, no sync started, as bench_tui runs it) from spawn to its first index row
  painted; its peak RSS is taken once the whole INBOX order is loaded;
* small: bare-paint and tui-paint again, on the ``--small-count`` mailbox;
* full: imaplib ``FETCH n:m (UID BODY.PEEK[])`` of INBOX, 1,000 a command, beside ``tuimail
  sync`` with ``offline = "full"`` into an empty store; the bodies in the store are counted
  by a separate process afterwards (durable: on disk when the command has exited).

Peak RSS: see ``bench/real_process.py`` (the process tree's, sampled, or the largest process's).
Before the timed invocations one unmeasured round warms Dovecot's caches (its index cache of
ENVELOPE and header fields is built by the first fetch that asks for them) and the page cache.
A target counts as met only if every invocation meets it. The output ends with two Markdown
tables (each row per invocation with its median; each target per invocation with its ratio)
ready for the README's Performance section; take them on a quiet machine (the load average
before and after is printed in their header).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import fmt
from bench.real_mailbox import Mailbox, bring_up, shut_down
from bench.real_neomutt import installed as neomutt_installed
from bench.real_neomutt import open_inbox
from bench.real_rows import BodiesCommitted, Tuimail, bare_paint, body_floor, envelope_floor

GROUPS = ("floor", "neomutt", "sync", "cli", "search", "tui", "small", "full")

ROWS: dict[str, tuple[str, str]] = {
    "floor-envelope": ("s", "floor: imaplib UID FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)"),
    "neomutt-cold": ("s", "peer: neomutt open INBOX + draw index, empty header cache"),
    "neomutt-warm": ("s", "peer: neomutt open INBOX + draw index, warm header cache"),
    "neomutt-cold-rss": ("MB", "peer: neomutt cold open, peak RSS"),
    "sync-cold": ("s", "tuimail sync into an empty store (all folders)"),
    "sync-cold-rss": ("MB", "tuimail sync into an empty store, peak RSS"),
    "sync-nochange": ("s", "tuimail sync, nothing changed"),
    "list": ("s", "tuimail list bench/INBOX --limit 50 --json"),
    "read-fetch": ("s", "tuimail read bench/INBOX UID (body fetched from the server)"),
    "read-stored": ("s", "tuimail read bench/INBOX UID (body in the store)"),
    "version": ("s", "tuimail --version"),
    "search": ("s", "search of two words over every folder, in-process, first query"),
    "bare-paint": ("s", "floor: bare Textual app, spawn to one static line painted"),
    "tui-paint": ("s", "tuimail interface, spawn to first index row painted (warm store)"),
    "tui-rss": ("MB", "tuimail interface with INBOX open (whole order loaded), peak RSS"),
    "bare-paint-small": ("s", "floor: bare Textual app, again beside the small mailbox"),
    "tui-paint-small": ("s", "tuimail interface, first index row, --small-count mailbox"),
    "floor-body": ("s", "floor: imaplib FETCH n:m (UID BODY.PEEK[]), 1,000 a command"),
    "full-sync": ("s", 'tuimail sync, offline = "full", into an empty store'),
    "full-download": ("s", "the same sync, spawn until every body is committed (seen by a reader)"),
    "full-index": ("s", "the same sync, from then until it exits (indexing the bodies for search)"),
    "full-rss": ("MB", 'tuimail sync, offline = "full", peak RSS'),
}


@dataclass
class Figures:
    """Every row's value per invocation (None where a row was not measured in it)."""

    runs: int
    values: dict[str, list[float | None]]
    notes: dict[str, str]

    def put(self, run: int, key: str, value: float) -> None:
        self.values.setdefault(key, [None] * self.runs)[run] = value
        unit = ROWS[key][0]
        shown = f"{value:.0f} MB" if unit == "MB" else fmt_time(value)
        print(f"  run {run + 1}: {key} {shown}", flush=True)

    def get(self, run: int, key: str) -> float | None:
        return self.values.get(key, [None] * self.runs)[run]


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else fmt(seconds)


def shown(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} MB" if ROWS[key][0] == "MB" else fmt_time(value)


# A target's check of one invocation: (what to show, met?), or None when not measured.
Check = Callable[[Figures, int], tuple[str, bool] | None]


def ratio_at_most(key: str, reference: str, limit: float, *, strictly: bool = False) -> Check:
    def check(figures: Figures, run: int) -> tuple[str, bool] | None:
        value, base = figures.get(run, key), figures.get(run, reference)
        if value is None or base is None:
            return None
        ratio = value / base
        met = ratio < limit if strictly else ratio <= limit
        return f"{shown(key, value)} / {shown(reference, base)} = {ratio:.2f}", met

    return check


def faster_than(key: str, reference: str, factor: float) -> Check:
    def check(figures: Figures, run: int) -> tuple[str, bool] | None:
        value, peer = figures.get(run, key), figures.get(run, reference)
        if value is None or peer is None:
            return None
        ratio = peer / value
        return f"{shown(reference, peer)} / {shown(key, value)} = {ratio:.2f}x", ratio >= factor

    return check


def under(key: str, limit: float) -> Check:
    def check(figures: Figures, run: int) -> tuple[str, bool] | None:
        value = figures.get(run, key)
        return None if value is None else (shown(key, value), value < limit)

    return check


TARGETS: list[tuple[str, Check]] = [
    ("cold sync <= 1.5x imaplib ENVELOPE", ratio_at_most("sync-cold", "floor-envelope", 1.5)),
    ("cold sync >= 2x faster than neomutt cold", faster_than("sync-cold", "neomutt-cold", 2.0)),
    ("list --limit 50 --json < 0.25 s", under("list", 0.25)),
    ("read (body from the server) < 0.25 s", under("read-fetch", 0.25)),
    ("read (body in the store) < 0.25 s", under("read-stored", 0.25)),
    ("--version < 0.25 s", under("version", 0.25)),
    ("first index row <= 1.3x bare Textual app", ratio_at_most("tui-paint", "bare-paint", 1.3)),
    (
        "first index row <= 1.3x bare app, small mailbox",
        ratio_at_most("tui-paint-small", "bare-paint-small", 1.3),
    ),
    (
        "first index row < neomutt warm open (a target at 100k)",
        ratio_at_most("tui-paint", "neomutt-warm", 1, strictly=True),
    ),
    ("no-change sync < 0.5 s", under("sync-nochange", 0.5)),
    ('offline = "full" <= 1.5x imaplib BODY.PEEK[]', ratio_at_most("full-sync", "floor-body", 1.5)),
    (
        'offline = "full" download (durable) <= 1.5x imaplib BODY.PEEK[]',
        ratio_at_most("full-download", "floor-body", 1.5),
    ),
    (
        "body indexing no longer than the download",
        ratio_at_most("full-index", "full-download", 1),
    ),
    ('offline = "full" peak RSS < 150 MB', under("full-rss", 150)),
    ("cold sync peak RSS < 150 MB", under("sync-cold-rss", 150)),
    ("interface, INBOX open, peak RSS < 150 MB", under("tui-rss", 150)),
    ("search of two words < 100 ms", under("search", 0.1)),
]


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{platform.node()}, {model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def version_of(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True)
    return (done.stdout or done.stderr).splitlines()[0] if done.stdout or done.stderr else "?"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Bench:
    """One benchmark session: the mailbox, the scratch directories, the figures."""

    def __init__(self, args: argparse.Namespace, groups: set[str]) -> None:
        self.args = args
        self.groups = groups
        self.scratch = Path(args.base).with_name(Path(args.base).name + "-scratch")
        self.figures = Figures(args.runs, {}, {})
        self.full_messages = 0  # messages of every folder of the full mailbox (its warm-up)

    def round(self, mailbox: Mailbox, run: int | None) -> None:
        """Every selected row once; ``run`` None: the unmeasured warm-up round."""

        def put(key: str, value: float) -> None:
            if run is not None:
                self.figures.put(run, key, value)

        tuimail = Tuimail(mailbox, self.scratch / "tuimail")
        if "floor" in self.groups:
            put("floor-envelope", envelope_floor(mailbox).seconds)
        if "neomutt" in self.groups:
            cold = open_inbox(mailbox, self.scratch / "neomutt", cold=True)
            put("neomutt-cold", cold.seconds)
            put("neomutt-cold-rss", cold.peak_rss_mb)
            if run is not None:
                put(
                    "neomutt-warm",
                    open_inbox(mailbox, self.scratch / "neomutt", cold=False).seconds,
                )
        uses_store = self.groups & {"sync", "cli", "search", "tui"}
        if uses_store and (run is None or "sync" in self.groups):
            synced = tuimail.sync(cold=True)
            put("sync-cold", synced.seconds)
            put("sync-cold-rss", synced.peak_rss_mb)
            if run is not None:
                self.figures.notes["sync-cold"] = synced.stdout.strip()
                put("sync-nochange", tuimail.sync(cold=False).seconds)
        if run is None:
            return
        if "cli" in self.groups:
            listed, uids = tuimail.newest_uids()
            put("list", listed.seconds)
            # The same message each time when every run synced a fresh store; otherwise one
            # not read before, so that its body still comes from the server.
            uid = uids[0] if "sync" in self.groups else uids[run]
            put("read-fetch", tuimail.read(uid).seconds)
            put("read-stored", tuimail.read(uid).seconds)
            put("version", tuimail.command("--version").seconds)
        if "search" in self.groups:
            seconds, found = tuimail.search(self.args.words)
            put("search", seconds)
            self.figures.notes["search"] = f"{self.args.words!r}: {found} messages"
        if "tui" in self.groups:
            put("bare-paint", bare_paint())
            paint, rss = tuimail.first_paint()
            put("tui-paint", paint)
            put("tui-rss", rss)

    def full_round(self, mailbox: Mailbox, run: int | None) -> None:
        floor = body_floor(mailbox)
        if run is None:  # warm-up: also Dovecot's cache of the header items tuimail fetches
            warm = Tuimail(mailbox, self.scratch / "tuimail-warmup")
            warm.sync(cold=True)
            self.full_messages = warm.stored_bodies()[0]  # every folder's messages
            return
        self.figures.put(run, "floor-body", floor.seconds)
        tuimail = Tuimail(mailbox, self.scratch / "tuimail-full", offline="full")
        with BodiesCommitted(tuimail.store, self.full_messages) as committed:
            synced = tuimail.sync(cold=True)
        self.figures.put(run, "full-sync", synced.seconds)
        if committed.at is not None:
            download = committed.at - synced.spawned_at
            self.figures.put(run, "full-download", download)
            self.figures.put(run, "full-index", synced.seconds - download)
        self.figures.put(run, "full-rss", synced.peak_rss_mb)
        messages, bodies = tuimail.stored_bodies()
        self.figures.notes["full-sync"] = f"bodies in the store after exit: {bodies} of {messages}"
        if bodies != messages:
            raise SystemExit(f'offline = "full": only {bodies} of {messages} bodies stored')

    def small_round(self, mailbox: Mailbox, run: int | None) -> None:
        tuimail = Tuimail(mailbox, self.scratch / "tuimail-small")
        if run is None:
            tuimail.sync(cold=True)
            return
        self.figures.put(run, "bare-paint-small", bare_paint())
        self.figures.put(run, "tui-paint-small", tuimail.first_paint()[0])

    def measure(self, mailbox: Mailbox, step: Callable[[Mailbox, int | None], None]) -> None:
        where = f"N = {mailbox.count}"
        print(f"{where}: warm-up round (not counted), load {load()}", flush=True)
        step(mailbox, None)
        for run in range(self.args.runs):
            print(f"{where}: invocation {run + 1} of {self.args.runs}, load {load()}", flush=True)
            step(mailbox, run)


def report(bench: Bench, header: list[str]) -> None:
    figures = bench.figures
    runs = range(figures.runs)
    lines = ["", *header, ""]
    lines.append("| row | " + " | ".join(f"run {r + 1}" for r in runs) + " | median | what |")
    lines.append("|---|" + "---:|" * (figures.runs + 1) + "---|")
    for key, (_, what) in ROWS.items():
        values = figures.values.get(key)
        if values is None:
            continue
        measured = [v for v in values if v is not None]
        median = statistics.median(measured) if measured else None
        cells = " | ".join(shown(key, v) for v in values)
        lines.append(f"| {key} | {cells} | {shown(key, median)} | {what} |")
    lines += ["", "| target | " + " | ".join(f"run {r + 1}" for r in runs) + " | met |"]
    lines.append("|---|" + "---:|" * figures.runs + "---|")
    for name, check in TARGETS:
        results = [check(figures, r) for r in runs]
        if all(result is None for result in results):
            continue
        met = sum(1 for result in results if result is not None and result[1])
        verdict = "met" if met == figures.runs else f"NOT met ({met} of {figures.runs})"
        cells = " | ".join("—" if result is None else result[0] for result in results)
        lines.append(f"| {name} | {cells} | {verdict} |")
    if figures.notes:
        lines.append("")
        lines += [f"- {key}: {note}" for key, note in figures.notes.items()]
    print("\n".join(lines), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages in INBOX")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3, help="invocations of every row")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"of {','.join(GROUPS)}")
    parser.add_argument("--base", default=None, help="where the generated mailbox lives")
    parser.add_argument("--full-count", type=int, default=10_000, help="INBOX for the full rows")
    parser.add_argument("--small-count", type=int, default=2_000, help="INBOX for 'small'")
    parser.add_argument("--words", default="release schedule", help="the search row's query")
    args = parser.parse_args()
    groups = {group.strip() for group in args.only.split(",") if group.strip()}
    if unknown := groups - set(GROUPS):
        parser.error(f"unknown rows {sorted(unknown)}; choose from {','.join(GROUPS)}")
    if not 1 <= args.runs <= 50:
        parser.error("--runs: 1 to 50")
    args.base = args.base or f"/tmp/tuimail-bench-real/n{args.count}-s{args.seed}"
    if "neomutt" in groups and not neomutt_installed():
        print("neomutt is not installed (apt-get install -y neomutt): its rows are skipped")
        groups.discard("neomutt")
    started = datetime.now(UTC)
    load_before = load()
    bench = Bench(args, groups)
    phases = [
        (groups - {"small", "full"}, Path(args.base), args.count, 0, bench.round),
        (
            {"small"} & groups,
            Path(f"{args.base}-small{args.small_count}"),
            args.small_count,
            200,
            bench.small_round,
        ),
        (
            {"full"} & groups,
            Path(f"{args.base}-full{args.full_count}"),
            args.full_count,
            100,
            bench.full_round,
        ),
    ]
    for chosen, base, count, port_offset, step in phases:
        if not chosen:
            continue
        mailbox = bring_up(base, count, args.seed, port_offset)
        try:
            bench.measure(mailbox, step)
        finally:
            shut_down(mailbox)
    took = (datetime.now(UTC) - started).total_seconds()
    sizes = [
        f"{name}N = {count}"
        for name, count, chosen in (
            ("", args.count, groups - {"small", "full"}),
            ("small rows: ", args.small_count, groups & {"small"}),
            ("full rows: ", args.full_count, groups & {"full"}),
        )
        if chosen
    ]
    header = [
        f"### The independent mailbox, {', '.join(sizes)}, seed {args.seed}, IMAPS",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC, {machine()}; {version_of(['neomutt', '-v'])}, "
        f"Dovecot {version_of(['dovecot', '--version'])}; load average {load_before} before, "
        f"{load()} after; {args.runs} invocations, {took / 60:.1f} min in all. "
        "Whole processes, spawn to exit.",
    ]
    report(bench, header)


if __name__ == "__main__":
    main()
