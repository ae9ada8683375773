"""Add a new account to the config file, and its password to the keyring.

The existing file is kept byte for byte and the new ``[accounts.NAME]`` tables are appended, so
a user's comments and order survive. The result must load with the config loader before
anything is written; it is written to a temporary file (mode 0600) and renamed over the old
one, so a crash leaves the old file or the new one, never half of one. The password is never
written: it goes to the keyring under the key ``secrets`` reads, unless a password_command
was chosen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from tuimail import secrets
from tuimail.config import load_config, parse_config
from tuimail.errors import ConfigError, NotAllowed
from tuimail.sync.onboarding.new_account import NewAccount

HEADER = "# tuimail config; every key is described in the README.\n"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _string(value: str) -> str:
    """A TOML basic string; control characters are escaped, as TOML requires."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _string(str(value))


def render_account(name: str, table: dict[str, Any]) -> str:
    """``[accounts.NAME]`` and its server tables as TOML text."""
    lines = [f"[accounts.{_key(name)}]"]
    nested = {key: value for key, value in table.items() if isinstance(value, dict)}
    lines += [f"{key} = {_value(value)}" for key, value in table.items() if key not in nested]
    for kind, server in nested.items():
        lines += ["", f"[accounts.{_key(name)}.{kind}]"]
        lines += [f"{key} = {_value(value)}" for key, value in server.items()]
    return "\n".join(lines) + "\n"


def new_config_text(path: Path, account: NewAccount) -> str:
    """The whole file with the account added; refuses a taken or malformed name."""
    if not _NAME.match(account.name):
        raise NotAllowed(
            f"account name {account.name!r}: use letters, digits, '_', '.' and '-', "
            "starting with a letter or digit"
        )
    existing = ""
    if path.exists():
        loaded = load_config(path)  # a broken file is reported, not appended to
        if account.name in loaded.accounts:
            raise NotAllowed(f"an account named {account.name!r} already exists in {path}")
        existing = path.read_text(encoding="utf-8")
    if existing and not existing.endswith("\n"):
        existing += "\n"
    text = (existing + "\n" if existing else HEADER + "\n") + render_account(
        account.name, account.table()
    )
    try:
        parse_config(tomllib.loads(text), path)
    except tomllib.TOMLDecodeError as exc:
        # Only a file whose own tables clash with ours (e.g. an inline `accounts = {...}`).
        raise ConfigError(f"{path}: cannot add [accounts.{account.name}] here: {exc}") from None
    return text


def store_passwords(account: NewAccount) -> None:
    """Put the password in the keyring for each server, as ``secrets.get_password`` reads it."""
    if account.password_command:
        return
    for kind, choice in account.servers().items():
        secrets.store_password(account.name, kind, account.login, choice.host, account.password)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: mode 0600, directory 0700 when we create it."""
    target = path.resolve()  # a symlinked config (dotfiles) keeps its link
    if not target.parent.exists():
        target.parent.mkdir(parents=True, mode=0o700)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)  # O_CREAT's mode does not apply to a leftover file
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


async def add_account(path: Path, account: NewAccount) -> None:
    """Store the password, then write the file; a taken name or a broken file writes nothing."""
    new_config_text(path, account)  # refuse before touching the keyring
    await asyncio.to_thread(store_passwords, account)
    write_private(path, new_config_text(path, account))
