"""Secrets come from a command, the keyring or the config, and never leak into errors."""

from __future__ import annotations

import asyncio
import os
import select
from pathlib import Path

import pytest

from tuimail.config import ServerConfig
from tuimail.errors import SecretError
from tuimail.secrets import get_password, run_secret_command


async def test_password_command_first_line_is_the_password() -> None:
    server = ServerConfig(host="h", password_command="printf 'hunter2\\nsecond line\\n'")
    assert await get_password("work", "imap", server, "ann") == "hunter2"


async def test_failing_command_reports_status_and_stderr_but_not_stdout() -> None:
    with pytest.raises(SecretError) as info:
        await run_secret_command("echo leaked-secret; echo 'no such entry' >&2; exit 3", "k")
    message = str(info.value)
    assert "exit status 3" in message and "no such entry" in message
    assert "leaked-secret" not in message


async def test_command_that_prints_nothing_is_an_error() -> None:
    with pytest.raises(SecretError, match="printed nothing"):
        await run_secret_command("true", "k")


async def test_hanging_command_times_out() -> None:
    with pytest.raises(SecretError, match="did not finish"):
        await run_secret_command("sleep 30", "k", timeout=0.2)


async def test_plain_config_password_is_used() -> None:
    server = ServerConfig.model_validate({"host": "h", "password": "s3cret"})
    assert await get_password("work", "smtp", server, "ann") == "s3cret"
    assert "s3cret" not in repr(server)


async def _gone_within(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` (not our child) has exited, waiting at most ``seconds`` for it."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        # A pidfd becomes readable when its process exits: an event, not a poll.
        ready, _, _ = await asyncio.to_thread(select.select, [pidfd], [], [], seconds)
        return bool(ready)
    finally:
        os.close(pidfd)


def _background_child_command(tmp_path: Path) -> tuple[str, Path]:
    """A password command that leaves a child (as pass leaves gpg) and reports its pid."""
    tmp_path.mkdir(exist_ok=True)
    fifo = tmp_path / "child.pid"
    os.mkfifo(fifo)
    return f"sleep 300 & echo $! > {fifo}; wait", fifo


async def test_a_timed_out_password_command_leaves_no_child_running(tmp_path: Path) -> None:
    command, fifo = _background_child_command(tmp_path)
    task = asyncio.create_task(run_secret_command(command, "k", timeout=1.0))
    child = int(await asyncio.to_thread(fifo.read_text))
    with pytest.raises(SecretError, match="did not finish"):
        await task
    assert await _gone_within(child, 10.0)


async def test_a_cancelled_password_command_leaves_no_child_running(tmp_path: Path) -> None:
    # A cancel can land while asyncio is still setting up the pipes (seen in CI: the child
    # survived and the cancel hung); ten rounds hit that window on most machines.
    for round_ in range(10):
        command, fifo = _background_child_command(tmp_path / str(round_))
        task = asyncio.create_task(run_secret_command(command, "k", timeout=300.0))
        child = int(await asyncio.to_thread(fifo.read_text))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10.0)
        assert await _gone_within(child, 10.0)
