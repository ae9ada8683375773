"""Config for accounts on the private Dovecot, as a user would write it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness.dovecot import Dovecot, MailUser
from tuimail.config import AccountConfig, LoadedConfig, parse_config


def pop3_table(dovecot: Dovecot, user: MailUser, **overrides: Any) -> dict[str, Any]:
    """The [accounts.NAME] table of a POP3S account on the test Dovecot."""
    server: dict[str, Any] = {
        "host": dovecot.host,
        "port": dovecot.pop3s_port,
        "security": "tls",
        "username": user.name,
        "password": user.password,
        "tls_ca_file": str(dovecot.ca_file),
        "timeout": 20.0,
    }
    server.update(overrides)
    # No undo-send delay: tests of sending expect it at once (undo tests set their own).
    return {"email": f"{user.name}@example.org", "pop3": server, "send_delay": 0}


def imap_table(dovecot: Dovecot, user: MailUser, **overrides: Any) -> dict[str, Any]:
    """The [accounts.NAME] table of an IMAPS account on the test Dovecot."""
    server: dict[str, Any] = {
        "host": dovecot.host,
        "port": dovecot.imaps_port,
        "security": "tls",
        "username": user.name,
        "password": user.password,
        "tls_ca_file": str(dovecot.ca_file),
        "timeout": 20.0,
    }
    server.update(overrides)
    # No undo-send delay: tests of sending expect it at once (undo tests set their own).
    return {"email": f"{user.name}@example.org", "imap": server, "send_delay": 0}


def config(**accounts: dict[str, Any]) -> LoadedConfig:
    """A validated config holding the given account tables."""
    return parse_config({"accounts": accounts})


def account(table: dict[str, Any]) -> AccountConfig:
    """One validated account."""
    return config(x=table).account("x")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, **accounts: dict[str, Any]) -> Path:
    """Write account tables as a config.toml (mode 0600) and return its path."""
    lines: list[str] = []
    for name, table in accounts.items():
        lines.append(f"[accounts.{name}]")
        subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
        for key, value in table.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {toml_value(value)}")
        for sub, values in subtables.items():
            lines.append(f"[accounts.{name}.{sub}]")
            lines.extend(f"{k} = {toml_value(v)}" for k, v in values.items())
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path
