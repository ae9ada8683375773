"""Running the crash tests' workers: each run is a child forked from one process that has
imported tuimail once, so twenty runs of a test do not pay twenty seconds of imports.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TextIO

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class WorkerRun:
    """How a worker process ended and what it printed."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float  # from the ``started`` line (or the start) to the exit

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    @property
    def completed(self) -> bool:
        return self.returncode == 0 and "done" in self.stdout.split()


@dataclass
class Child:
    """A running worker: its pid and what it has printed so far."""

    pid: int
    out: TextIO
    errors: Path
    lines: list[str] = field(default_factory=list)

    def wait_for(self, prefix: str) -> str | None:
        """Read the worker's output up to a line starting with ``prefix`` (None if it ended)."""
        while line := self.out.readline():
            self.lines.append(line)
            if line.startswith(prefix):
                return line.strip()
        return None


class ForkServer:
    """Runs workers as children forked from one process that imported tuimail once.

    Importing tuimail takes a second or more; a crash test runs a worker twenty times. The
    server (``python -m tests.reliability.crash_workers MODULE ...``) imports the worker modules,
    then forks a child per run that calls ``MODULE.main(args)`` with its stdout on a FIFO that
    the test reads; the server reports the child's pid and, when it has ended, its exit status.
    """

    def __init__(self, *modules: str) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="tuimail-fork-"))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.crash_workers", *modules],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._buffer = b""
        self._runs = 0
        self._running: int | None = None  # the pid of the child not yet ended

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._running is not None:  # a failed test left its worker behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._running, signal.SIGKILL)
        assert self._proc.stdin is not None
        self._proc.stdin.close()  # the server ends at the end of its input
        self._proc.wait(timeout=30)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _event(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The server's next line, or None if none came within ``timeout`` seconds."""
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            assert chunk, "the fork server died"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        event: dict[str, Any] = json.loads(line)
        return event

    def start(self, module: str, args: dict[str, Any]) -> Child:
        """Fork a child running ``module.main(args)``; read it with ``Child.wait_for``."""
        self._runs += 1
        fifo = self._dir / f"out{self._runs}"
        errors = self._dir / f"err{self._runs}"
        os.mkfifo(fifo)
        request = {"module": module, "args": args, "stdout": str(fifo), "stderr": str(errors)}
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request).encode() + b"\n")
        self._proc.stdin.flush()
        # Opens once the child has opened its end; closed in end().
        out = open(fifo, encoding="utf-8")  # noqa: SIM115
        event = self._event()
        assert event is not None
        self._running = int(event["pid"])
        return Child(self._running, out, errors)

    def end(self, child: Child, kill_after: float | None = None) -> WorkerRun:
        """Wait for the child to exit; with ``kill_after``, SIGKILL it if it has not exited
        that many seconds from now (waiting on its exit, not sleeping)."""
        started = time.monotonic()
        ended = self._event(kill_after)
        if ended is None:
            os.kill(child.pid, signal.SIGKILL)
            ended = self._event()
            assert ended is not None
        self._running = None
        child.lines.append(child.out.read())
        child.out.close()
        seconds = time.monotonic() - started
        stderr = child.errors.read_text()
        result = WorkerRun(int(ended["status"]), "".join(child.lines), stderr, seconds)
        assert result.returncode in (0, -signal.SIGKILL), result.stderr[-3000:]
        return result

    def run(self, module: str, args: dict[str, Any], kill_after: float | None = None) -> WorkerRun:
        """Run ``module.main(args)`` in a child; with ``kill_after``, SIGKILL it that many
        seconds after it printed ``started`` unless it has exited by then."""
        child = self.start(module, args)
        child.wait_for("started")
        return self.end(child, kill_after)


class WorkerRuns:
    """Runs one worker module with the same arguments over and over (one store, one account),
    counting the runs that were killed and timing the longest, to aim random kills."""

    def __init__(self, workers: ForkServer, module: str, args: dict[str, Any]) -> None:
        self.workers = workers
        self.module = module
        self.args = args
        self.kills = 0
        self.longest = 0.0

    def run(self, kill: str = "none", kill_after: float | None = None, **extra: Any) -> WorkerRun:
        """One run; unless it was killed, it must have completed."""
        result = self.workers.run(self.module, {**self.args, "kill": kill, **extra}, kill_after)
        self.longest = max(self.longest, result.seconds)
        if result.killed:
            self.kills += 1
        else:
            assert result.completed, result.stderr[-2000:]
        return result


def _child(request: dict[str, Any]) -> NoReturn:
    """In the forked child: stdout to the FIFO, stderr to a file, run the worker, exit."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(os.open(request["stdout"], os.O_WRONLY), 1)
        os.dup2(os.open(request["stderr"], os.O_WRONLY | os.O_CREAT, 0o600), 2)
        module = importlib.import_module(request["module"])
        asyncio.run(module.main(request["args"]))
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def serve(modules: list[str]) -> None:
    """The fork server's loop: one JSON request per input line, one run at a time."""
    for name in modules:
        importlib.import_module(name)
    for line in sys.stdin.buffer:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    serve(sys.argv[1:])
