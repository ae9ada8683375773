"""Running a program the user named (sendmail, an address book, a password command): an
argument list, in a process group of its own so a timeout or a cancel ends everything it
started. No shell unless the caller names one (``sh -c`` for a password command, which is the
user's own command line)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    """What a program left behind: its exit status and its two outputs."""

    returncode: int
    stdout: bytes
    stderr: bytes


async def run(argv: Sequence[str], stdin: bytes | None, timeout: float) -> Finished:
    """Run ``argv`` with ``stdin`` as its input; TimeoutError (the group killed) after ``timeout``.

    OSError when the program cannot be started (not found, not executable).
    """
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    )
    # A cancel while asyncio is still wiring up the pipes would leave the program running:
    # finish the spawn first, then end the whole group.
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        await asyncio.shield(_end_spawned(spawn))
        raise
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        await _end_group(proc)
        raise
    except BaseException:  # cancelled: a newer query, or the app closing
        await asyncio.shield(_end_group(proc))
        raise
    assert proc.returncode is not None
    return Finished(proc.returncode, out, err)


async def _end_spawned(spawn: asyncio.Future[asyncio.subprocess.Process]) -> None:
    try:
        proc = await spawn
    except OSError:  # it never started: nothing to end
        return
    await _end_group(proc)


async def _end_group(proc: asyncio.subprocess.Process) -> None:
    """Kill every process of the program's group and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()
