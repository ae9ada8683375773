"""Secrets come from a command, the keyring or the config, and never leak into errors."""

from __future__ import annotations

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
