"""Running a piped command: its output capped, and stopped with its children when cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from tuimail.sync import piping


def alive(pid: int) -> bool:
    """Whether the process still runs (a zombie waiting for its reaper has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # ended in between
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_endless_output_is_kept_up_to_the_cap_and_the_rest_counted() -> None:
    shown: list[str] = []
    total = piping.MAX_OUTPUT + 123_456
    result = await piping.run_pipe(f"head -c {total} /dev/zero | tr '\\0' x", [b""], shown.append)
    assert result.statuses == (0,)
    assert len("".join(shown)) == piping.MAX_OUTPUT
    assert result.dropped == 123_456


async def test_a_command_that_never_reads_its_input_still_ends_well() -> None:
    shown: list[str] = []
    result = await piping.run_pipe("echo done", [b"x" * 5_000_000], shown.append)
    assert (result.statuses, "".join(shown)) == ((0,), "done\n")


async def test_cancelling_stops_the_command_and_the_processes_it_started() -> None:
    said: list[str] = []
    started = asyncio.Event()

    def output(text: str) -> None:
        said.append(text)
        if "".join(said).endswith("\n"):
            started.set()

    command = "sleep 300 & echo $$ $!; wait"
    running = asyncio.ensure_future(piping.run_pipe(command, [b""], output))
    await asyncio.wait_for(started.wait(), 30)
    shell, child = (int(word) for word in "".join(said).split())
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert not alive(shell)
    for _ in range(100):  # the orphaned child is reaped by init, a moment after the signal
        if not alive(child):
            break
        await asyncio.sleep(0.02)
    assert not alive(child), "the command's own children are stopped too"
