"""Pipe messages to a shell command the user typed, as mutt's ``|`` does, and collect its output.

The command line is the user's own, so it runs through their shell (``$SHELL -c``, else
``/bin/sh``); the message only ever reaches it on standard input, never inside the string.
Its output (standard output and error together) is decoded and sanitised before anyone shows
it, and capped: a command that prints without end is drained, not kept.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tuimail.mail.sanitize import sanitize_text
from tuimail.store.records import MessageRow
from tuimail.sync.mbox_file import mbox_entry, unix_lines

MAX_OUTPUT = 1 << 20  # bytes of output kept for the pager; the rest is read and counted
_CHUNK = 1 << 16
STOP_WAIT = 2.0  # seconds a stopped command gets to end before it is killed


@dataclass(frozen=True, slots=True)
class PipeResult:
    """How the runs of a command ended: each run's exit status, and output not kept."""

    statuses: tuple[int, ...]
    dropped: int = 0  # bytes of output beyond MAX_OUTPUT

    @property
    def failed(self) -> tuple[int, ...]:
        """The non-zero exit statuses (a signal shows as its negative number)."""
        return tuple(status for status in self.statuses if status != 0)


def raw_inputs(messages: Sequence[tuple[MessageRow, bytes]], *, split: bool) -> list[bytes]:
    """What the command reads: each message on its own (Unix line endings, as mutt pipes them),
    or all of them as one mbox stream (one message alone is passed as it is)."""
    if split or len(messages) == 1:
        return [unix_lines(raw) for _row, raw in messages]
    return [b"".join(mbox_entry(row, raw) for row, raw in messages)]


def text_inputs(texts: Sequence[str], *, split: bool) -> list[bytes]:
    """Decoded texts (what the view shows): one each, or joined by a blank line in one run."""
    encoded = [text.encode("utf-8") for text in texts]
    return encoded if split else [b"\n".join(encoded)]


def shell_words(command: str) -> list[str]:
    """The argument list that runs ``command`` through the user's shell."""
    return [os.environ.get("SHELL") or "/bin/sh", "-c", command]


async def run_pipe(
    command: str, inputs: Sequence[bytes], on_output: Callable[[str], None]
) -> PipeResult:
    """Run ``command`` once per input, each input on standard input; sanitised output goes to
    ``on_output`` as it arrives. Cancelling stops the running command and its children."""
    statuses: list[int] = []
    kept = dropped = 0
    for data in inputs:
        process = await asyncio.create_subprocess_exec(
            *shell_words(command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its children
        )
        feeding = asyncio.ensure_future(_feed(process, data))
        try:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            assert process.stdout is not None
            while chunk := await process.stdout.read(_CHUNK):
                room = max(MAX_OUTPUT - kept, 0)
                kept += min(room, len(chunk))
                dropped += len(chunk) - min(room, len(chunk))
                if room:
                    on_output(sanitize_text(decoder.decode(chunk[:room])))
            on_output(sanitize_text(decoder.decode(b"", final=True)))
            await feeding
            statuses.append(await process.wait())
        except BaseException:
            feeding.cancel()
            await _stop(process)
            raise
    return PipeResult(tuple(statuses), dropped)


async def _feed(process: asyncio.subprocess.Process, data: bytes) -> None:
    assert process.stdin is not None
    # A command that does not read its input (``echo done``) closes the pipe early: not an error.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.write(data)
        await process.stdin.drain()
        process.stdin.close()
        await process.stdin.wait_closed()


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop the command's process group: politely, then for good."""
    for stop in (signal.SIGTERM, signal.SIGKILL):
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, stop)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_WAIT)
