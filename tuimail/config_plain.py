"""The config file checked without pydantic, for the commands scripts start often.

``tuimail list`` and ``tuimail read`` use no setting; they only give every command's answer to
the file: refused in one line, or accepted with its warnings. Importing pydantic and building
the models costs more than such a command's own work, so a file whose every value is plainly
one the models accept (the exact TOML type, within the bounds) is judged here. Anything less
plain goes to the models in ``tuimail.config``, which stay the definition of the format and
word every error; ``tests/test_config_plain.py`` holds the tables below to them.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tuimail import ui_checks
from tuimail.config_view import server_view
from tuimail.errors import ConfigError

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
ACCOUNT_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
# Matched as pydantic matches the models' pattern: the whole name, no final newline.
_ACCOUNT_NAME = re.compile(ACCOUNT_NAME)

Check = Callable[[Any], bool]


def read_toml(path: Path) -> dict[str, Any]:
    """The config file's TOML; one ConfigError line if it cannot be read or parsed."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


# -- what the models accept, narrowed to the plain cases ------------------------------------


def _text(min_length: int = 0) -> Check:
    return lambda value: type(value) is str and len(value) >= min_length


def _path(value: Any) -> bool:
    return type(value) is str and value != "" and "\0" not in value


def _flag(value: Any) -> bool:
    return type(value) is bool


def _whole(low: int, high: int | None = None) -> Check:
    return lambda value: type(value) is int and low <= value and (high is None or value <= high)


def _one_of(*choices: str) -> Check:
    return lambda value: type(value) is str and value in choices


def _positive(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and value > 0


def command_words(command: str) -> list[str]:
    """A command line split as a shell would (quotes kept together); [] if it cannot be."""
    import shlex  # only a config with a command asks

    try:
        return shlex.split(command)
    except ValueError:  # an unclosed quote
        return []


def _command(value: Any) -> bool:
    return type(value) is str and bool(command_words(value))


def _key_map(value: Any) -> bool:
    return type(value) is dict and all(type(keys) is str for keys in value.values())


@dataclass(frozen=True)
class Table:
    """One model's keys: which are required, and the plain check of each value."""

    required: frozenset[str]
    checks: Mapping[str, Check]


def _table(checks: Mapping[str, Check], required: tuple[str, ...] = ()) -> Table:
    return Table(frozenset(required), checks)


SERVER = _table(
    {
        "host": _text(1),
        "port": _whole(1, 65535),
        "security": _one_of("tls", "starttls", "none"),
        "allow_insecure": _flag,
        "username": _text(),
        "password_command": _text(),
        "password": _text(),
        "oauth2_token_command": _text(),
        "auth": _one_of("auto", "plain", "login", "xoauth2", "oauthbearer", "apop", "user"),
        "tls_ca_file": _path,
        "tls_verify": _flag,
        "timeout": _positive,
    },
    required=("host",),
)
POP3 = _table(
    {**SERVER.checks, "leave_on_server": _flag, "delete_after_days": _whole(0)},
    required=("host",),
)
IDENTITY = _table(
    {"email": _text(), "display_name": _text(), "signature": _text()}, required=("email",)
)
FOLDER_NAMES = _table({role: _text(1) for role in ("sent", "drafts", "trash", "junk", "archive")})
UI = _table(
    {
        "theme": _text(),
        "keys": _key_map,
        "bell": _flag,
        "notify": _one_of("none", "osc777", "osc9", "both"),
        "on_new_mail_command": _text(1),
        "layout": _one_of("right", "below"),
        "threads": _flag,
        "contacts": _path,
        "confirm_quit": _flag,
        "pipe_split": _flag,
        "pipe_decode": _flag,
        "address_book_command": _command,
        "address_book_timeout": _positive,
    }
)


def _plain(table: Table, value: Any) -> bool:
    if type(value) is not dict or not table.required <= value.keys():
        return False
    checks = table.checks
    return all(key in checks and checks[key](item) for key, item in value.items())


def _plain_server(value: Any) -> bool:
    # The model refuses a password given twice.
    return _plain(SERVER, value) and not ("password" in value and "password_command" in value)


def _plain_pop3(value: Any) -> bool:
    return _plain(POP3, value) and not ("password" in value and "password_command" in value)


def _plain_identities(value: Any) -> bool:
    return type(value) is list and all(_plain(IDENTITY, identity) for identity in value)


def _plain_folder_names(value: Any) -> bool:
    return _plain(FOLDER_NAMES, value)


ACCOUNT = _table(
    {
        "email": lambda value: type(value) is str and EMAIL.match(value) is not None,
        "display_name": _text(),
        "imap": _plain_server,
        "pop3": _plain_pop3,
        "smtp": _plain_server,
        "sendmail_command": _command,
        "identities": _plain_identities,
        "signature": _text(),
        "offline": _one_of("headers", "full"),
        "poll_interval": _whole(10),
        "send_delay": _whole(0, 3600),
        "folders": _plain_folder_names,
    },
    required=("email",),
)


def _plain_account(value: Any) -> bool:
    # Exactly one server receives mail.
    # Exactly one way to send, if any.
    return (
        _plain(ACCOUNT, value)
        and ("imap" in value) != ("pop3" in value)
        and not ("smtp" in value and "sendmail_command" in value)
    )


def _plain_accounts(value: Any) -> bool:
    return type(value) is dict and all(
        _ACCOUNT_NAME.fullmatch(name) is not None and _plain_account(account)
        for name, account in value.items()
    )


CONFIG = _table({"accounts": _plain_accounts, "ui": lambda value: _plain(UI, value)})


# -- the rules across fields, shared with the models -----------------------------------------


class ServerRules(Protocol):
    """What the cross-field rules read of a server, from a model or from plain TOML."""

    @property
    def host(self) -> str: ...
    @property
    def security(self) -> str: ...
    @property
    def allow_insecure(self) -> bool: ...
    @property
    def tls_ca_file(self) -> Path | None: ...
    @property
    def tls_verify(self) -> bool: ...
    @property
    def password(self) -> object | None: ...


def _plain_servers(account: Mapping[str, Any]) -> dict[str, ServerRules | None]:
    return {
        kind: None if account.get(kind) is None else server_view(account[kind])
        for kind in ("imap", "pop3", "smtp")
    }


def check_rules(
    where: str,
    servers: Mapping[str, Mapping[str, ServerRules | None]],
    contacts: Path | None,
    path: Path | None,
) -> list[str]:
    """Rules that need more than one field; returns warnings, raises for hard errors.

    ``servers`` maps account name -> {"imap"|"pop3"|"smtp": server or None}.
    """
    warnings: list[str] = []
    for name, by_kind in servers.items():
        for kind, server in by_kind.items():
            if server is None:
                continue
            key = f"accounts.{name}.{kind}"
            insecure = server.security == "none" and not server.allow_insecure
            if insecure and not _is_loopback(server.host):
                raise ConfigError(
                    f'{where}: {key}.security: "none" sends your password in clear text; '
                    f"allowed only to localhost unless allow_insecure = true"
                )
            if server.tls_ca_file is not None and not server.tls_ca_file.expanduser().is_file():
                raise ConfigError(f"{where}: {key}.tls_ca_file: no such file {server.tls_ca_file}")
            if not server.tls_verify:
                warnings.append(f"{key}: tls_verify = false: the server's identity is not checked")
            if server.password is not None:
                warnings.append(f"{key}: password is stored in clear text in the config file")
                if path is not None and _readable_by_others(path):
                    warnings.append(
                        f"{path} holds a password and is readable by other users: chmod 600 it"
                    )
    if contacts is not None and not contacts.expanduser().is_file():
        warnings.append(f"ui.contacts: no such file {contacts}; completion uses the store only")
    return warnings


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress  # only a server without TLS asks

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _readable_by_others(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def plain_warnings(data: dict[str, Any], path: Path) -> list[str] | None:
    """The warnings of a plainly valid config file; None when the models must judge it.

    Raises the ConfigError the models' load would raise for the rules across fields and the
    interface's names, in the same order.
    """
    if not _plain(CONFIG, data):
        return None
    accounts: dict[str, Any] = data.get("accounts", {})
    ui: dict[str, Any] = data.get("ui", {})
    contacts = ui.get("contacts")
    warnings = check_rules(
        str(path),
        {name: _plain_servers(account) for name, account in accounts.items()},
        None if contacts is None else Path(contacts),
        path,
    )
    ui_checks.check_keys(str(path), ui.get("keys", {}))
    ui_checks.check_theme(str(path), ui.get("theme", "dark"))
    return warnings
