"""Envelope extraction per message: the fast path beside the full parser and a stdlib floor.

    python -m bench.bench_parse [--count 5000] [--runs 3]

All three read the same generated mailbox (``tuimail.demo.mailbox.generate``) from memory:

* ``envelope_from_bytes``: what the POP3 fetcher calls, the fast path with its fallbacks;
* ``full parser``: the ``policy.default`` path it replaced, kept as the reference;
* ``compat32 parse`` (the floor): ``email.message_from_bytes(raw, policy=compat32)``, the
  cheapest full stdlib parse, which builds no envelope at all.

The fast path's caches (repeated address headers, names and subjects, part headers) are
emptied before every run, so each run pays for filling them once, as a fresh process would.
"""

from __future__ import annotations

import argparse
import email
import statistics
from email import policy

from bench.common import Row, timed
from tuimail.demo.mailbox import generate
from tuimail.mail import fastheaders, parse


def clear_caches() -> None:
    """Forget what earlier runs remembered, so every run starts cold."""
    parse._cached_addresses.cache_clear()
    parse._cached_header_text.cache_clear()
    fastheaders._cached_part_header.cache_clear()
    fastheaders._content_headers.cache_clear()


def print_per_message_table(title: str, rows: list[Row], count: int) -> str:
    """A Markdown table of microseconds per message (min and median over runs), with ratios."""
    medians = {row.name: row.median for row in rows}
    lines = [
        f"### {title}",
        "",
        "| benchmark | runs | min µs/msg | median µs/msg | × floor | what |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        floor = medians.get(row.reference or "")
        ratio = f"{row.median / floor:.2f}" if floor else "1.00"
        lines.append(
            f"| {row.name} | {len(row.seconds)} | {min(row.seconds) / count * 1e6:.1f} | "
            f"{row.median / count * 1e6:.1f} | {ratio} | {row.what} |"
        )
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raws = [message.raw for message in generate(args.count)]

    def fast() -> None:
        clear_caches()
        for raw in raws:
            parse.envelope_from_bytes(raw)

    def full() -> None:
        for raw in raws:
            parse._envelope_slow(raw)

    def floor() -> None:
        for raw in raws:
            email.message_from_bytes(raw, policy=policy.compat32)

    fallbacks = 0
    for raw in raws:
        try:
            parse._envelope_fast(raw)
        except fastheaders.Unsupported:
            fallbacks += 1
    rows = [
        Row("P", "compat32-parse", timed(floor, args.runs), None, "floor: message_from_bytes"),
        Row("P", "envelope-fast", timed(fast, args.runs), "compat32-parse", "envelope_from_bytes"),
        Row("P", "envelope-full", timed(full, args.runs), "compat32-parse", "policy.default path"),
    ]
    print_per_message_table(f"Envelope extraction, N = {args.count}", rows, args.count)
    speedup = statistics.median(rows[2].seconds) / statistics.median(rows[1].seconds)
    print(f"\nfast path {speedup:.0f}x faster than the full parser; {fallbacks} fallbacks")


if __name__ == "__main__":
    main()
