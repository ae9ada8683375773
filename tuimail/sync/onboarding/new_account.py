"""A new account as the setup form describes it, and the login test before it is saved.

The login test runs doctor's checks (DNS, TCP, TLS, login, folders) on exactly the settings
that will be written, with the typed password held in memory only, so "saved" means a sync
can log in with the same settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

from tuimail.config import AccountConfig, parse_config
from tuimail.errors import AuthError, ProtocolError, TLSError, TuimailError
from tuimail.sync.doctor import Check, ServerDoctor
from tuimail.sync.onboarding.providers import ServerChoice, domain_of

TEST_TIMEOUT = 15.0  # seconds per step of the login test
_NAMES = {"imap": "IMAP", "smtp": "SMTP"}

Report = Callable[[Check], None]


@dataclass(frozen=True)
class NewAccount:
    """What the form holds. Without a password_command the password goes to the keyring."""

    name: str
    email: str
    imap: ServerChoice
    smtp: ServerChoice | None
    password: str = field(default="", repr=False)
    password_command: str = ""
    display_name: str = ""
    username: str = ""
    tls_ca_file: Path | None = None

    @property
    def login(self) -> str:
        """The user name both servers are logged in with."""
        return self.username or self.email

    def servers(self) -> dict[Literal["imap", "smtp"], ServerChoice]:
        """The account's servers by protocol, receiving first."""
        found: dict[Literal["imap", "smtp"], ServerChoice] = {"imap": self.imap}
        if self.smtp is not None:
            found["smtp"] = self.smtp
        return found

    def table(self) -> dict[str, Any]:
        """The ``[accounts.NAME]`` table as it is written to the config file: no password."""
        table: dict[str, Any] = {"email": self.email.strip()}
        if self.display_name:
            table["display_name"] = self.display_name
        for kind, choice in self.servers().items():
            server: dict[str, Any] = {
                "host": choice.host,
                "port": choice.port,
                "security": choice.security,
            }
            if self.username and self.username != self.email:
                server["username"] = self.username
            if self.password_command:
                server["password_command"] = self.password_command
            if self.tls_ca_file is not None:
                server["tls_ca_file"] = str(self.tls_ca_file)
            table[kind] = server
        return table

    def tested_config(self) -> AccountConfig:
        """The written settings plus, in memory only, the typed password for the login test."""
        table = self.table()
        for kind in self.servers():
            table[kind]["timeout"] = TEST_TIMEOUT
            if not self.password_command:
                table[kind]["password"] = SecretStr(self.password)
        return parse_config({"accounts": {self.name: table}}).account(self.name)


def default_name(email: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """An account name from the domain's first label (``work`` for ann@work.example), unused."""
    label = "".join(
        ch for ch in domain_of(email).split(".")[0] if ch.isascii() and (ch.isalnum() or ch in "_-")
    ).lstrip("_-")
    base = label or "mail"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def _failure(check: Check) -> TuimailError:
    """One line for the first failed check, as the error type that fits the step."""
    if check.name == "login":
        return AuthError(check.detail)
    text = f"{_NAMES[check.server]} {check.name}: {check.detail}"
    return TLSError(text) if check.name in ("tls", "starttls") else ProtocolError(text)


async def verify(account: NewAccount, report: Report | None = None) -> None:
    """Log in to every server of the account; raise the first failure as one line."""
    config = account.tested_config()
    checks: list[Check] = []

    def seen(check: Check) -> None:
        checks.append(check)
        if report is not None:
            report(check)

    for kind in account.servers():
        if not await ServerDoctor(account.name, config, kind).run(seen):
            raise _failure(checks[-1])
