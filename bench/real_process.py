"""One whole process, measured: wall time from spawn to exit and peak resident memory.

Peak RSS comes from /proc, sampled every 10 ms while the process runs: the larger of the
highest ``VmHWM`` (the kernel's own high-water mark of one process's resident set, so a spike
between two samples still counts) among the process and its descendants, and the highest sum of
their ``VmRSS`` (a helper process running beside the main one). Growth in a process's last
10 ms can be missed. ``ru_maxrss`` from ``wait4`` is not used: Linux folds the high-water mark of
the memory the child had before ``exec`` into it, and that is this benchmark's own (a child of
an 80 MB parent reports at least 80 MB).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import struct
import subprocess
import tempfile
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.01


@dataclass(frozen=True)
class Finished:
    """What one process did."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    spawned_at: float  # time.time() just before the spawn, for children that print a time.time()


def _memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in kB; zeros once it is gone."""
    rss = hwm = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, as /proc lists them now."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
                pending.extend(int(child) for child in children.split())
    return found


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while True:
            sample = [_memory_kb(pid) for pid in _tree(self.pid)]
            total = sum(rss for rss, _ in sample)
            self.peak_kb = max(self.peak_kb, total, *(hwm for _, hwm in sample))
            if self.done.wait(SAMPLE_SECONDS):
                return


def _drain(fd: int, sink: bytearray) -> None:
    """Read a pty's master side until the child closes it, as a terminal would."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child side is closed
            return
        if not chunk:
            return
        sink.extend(chunk)


def run(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    terminal: tuple[int, int] | None = None,
    timeout: float = 3600,
) -> Finished:
    """Run ``argv`` to its end; with ``terminal`` (columns, lines) on a pty of that size.

    On a pty the child becomes a session leader with the pty as its controlling terminal
    (``setsid -c`` execs in place, so the pid, time and rusage are the program's own).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        master = slave = -1
        screen = bytearray()
        reader: threading.Thread | None = None
        if terminal is None:
            stdio: dict[str, int | object] = {"stdout": out, "stderr": err}
            command = list(argv)
        else:
            master, slave = pty.openpty()
            columns, lines = terminal
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
            stdio = {"stdin": slave, "stdout": slave, "stderr": slave}
            command = ["setsid", "-c", *argv]
        spawned_at = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, **stdio)  # type: ignore[call-overload]
        if terminal is not None:
            os.close(slave)
            reader = threading.Thread(target=_drain, args=(master, screen), daemon=True)
            reader.start()
        sampler = _TreeSampler(process.pid)
        sampler.start()
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        _, status = os.waitpid(process.pid, 0)
        seconds = time.perf_counter() - started
        killer.cancel()
        sampler.done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if reader is not None:
            reader.join(5)
            os.close(master)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        if terminal is not None:
            stdout = screen.decode(errors="replace")
        return Finished(
            seconds=seconds,
            peak_rss_mb=sampler.peak_kb / 1024,
            returncode=process.returncode,
            stdout=stdout,
            stderr=err.read().decode(errors="replace"),
            spawned_at=spawned_at,
        )


def checked(finished: Finished, what: str) -> Finished:
    """``finished``, or stop the benchmark with what the process said."""
    if finished.returncode:
        raise SystemExit(
            f"{what} exited with {finished.returncode}:\n"
            f"{finished.stdout[-2000:]}\n{finished.stderr[-3000:]}"
        )
    return finished
