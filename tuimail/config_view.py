"""What connecting to an IMAP account reads of the config, without the config models.

``tuimail sync`` with nothing new on the server (the usual run, from cron or a timer) needs only
the settings for a connection and a login; loading the models (pydantic) to get them cost about
140 ms, a third of that whole run. A file that ``config_plain`` found plainly valid is read here
into small frozen dataclasses with the models' defaults; the protocols below name what
connecting reads, so the models and these views serve the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Security = Literal["tls", "starttls", "none"]
Auth = Literal["auto", "plain", "login", "xoauth2", "oauthbearer", "apop", "user"]

# Default ports by protocol and security (IANA): implicit TLS first, then the plain port.
DEFAULT_PORTS: dict[str, dict[str, int]] = {
    "imap": {"tls": 993, "starttls": 143, "none": 143},
    "pop3": {"tls": 995, "starttls": 110, "none": 110},
    "smtp": {"tls": 465, "starttls": 587, "none": 25},
}


class SecretValue(Protocol):
    """A secret that says itself only when asked (pydantic's SecretStr, or ``Secret``)."""

    def get_secret_value(self) -> str: ...


class ServerSettings(Protocol):
    """What a login to one server reads of its config table."""

    @property
    def host(self) -> str: ...
    @property
    def security(self) -> Security: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> SecretValue | None: ...
    @property
    def password_command(self) -> str | None: ...
    @property
    def oauth2_token_command(self) -> str | None: ...
    @property
    def auth(self) -> Auth: ...
    @property
    def tls_ca_file(self) -> Path | None: ...
    @property
    def tls_verify(self) -> bool: ...
    @property
    def timeout(self) -> float: ...

    def port_for(self, protocol: str) -> int: ...


class FolderNameSettings(Protocol):
    """``[accounts.X.folders]``: folder names by role."""

    @property
    def sent(self) -> str | None: ...
    @property
    def drafts(self) -> str | None: ...
    @property
    def trash(self) -> str | None: ...
    @property
    def junk(self) -> str | None: ...
    @property
    def archive(self) -> str | None: ...


class ImapAccountSettings(Protocol):
    """What connecting to an IMAP account and naming its folders read of the account."""

    @property
    def email(self) -> str: ...
    @property
    def imap(self) -> ServerSettings | None: ...
    @property
    def offline(self) -> Literal["headers", "full"]: ...
    @property
    def folders(self) -> FolderNameSettings: ...


class Secret:
    """A password from the config file; its repr hides it, as SecretStr's does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"


@dataclass(frozen=True)
class ServerView:
    """A server table of a plainly valid file, with the models' defaults."""

    host: str
    port: int | None = None
    security: Security = "tls"
    allow_insecure: bool = False
    username: str | None = None
    password: Secret | None = None
    password_command: str | None = None
    oauth2_token_command: str | None = None
    auth: Auth = "auto"
    tls_ca_file: Path | None = None
    tls_verify: bool = True
    timeout: float = 60.0

    def port_for(self, protocol: str) -> int:
        """The configured port, or the default for this protocol and security."""
        return self.port or DEFAULT_PORTS[protocol][self.security]


@dataclass(frozen=True)
class FolderNamesView:
    """``[accounts.X.folders]`` of a plainly valid file."""

    sent: str | None = None
    drafts: str | None = None
    trash: str | None = None
    junk: str | None = None
    archive: str | None = None


@dataclass(frozen=True)
class ImapAccountView:
    """An IMAP account of a plainly valid file, as far as connecting reads it."""

    email: str
    imap: ServerView
    offline: Literal["headers", "full"] = "headers"
    folders: FolderNamesView = field(default_factory=FolderNamesView)


def imap_account_views(data: Mapping[str, Any]) -> dict[str, ImapAccountView | None]:
    """Each account of a config that ``config_plain.plain_warnings`` accepted: its view, or
    None for an account that is not an IMAP account."""
    views: dict[str, ImapAccountView | None] = {}
    for name, account in data.get("accounts", {}).items():
        table = account.get("imap")
        views[name] = (
            None
            if table is None
            else ImapAccountView(
                email=account["email"],
                imap=server_view(table),
                offline=account.get("offline", "headers"),
                folders=FolderNamesView(**account.get("folders", {})),
            )
        )
    return views


def server_view(table: Mapping[str, Any]) -> ServerView:
    """A plainly valid server table (``[imap]``, ``[pop3]``, ``[smtp]``) as a ServerView; a
    POP3 table's own keys (leave_on_server...) are left out."""
    values = {key: value for key, value in table.items() if key in _SERVER_KEYS}
    if "password" in values:
        values["password"] = Secret(values["password"])
    if "tls_ca_file" in values:
        values["tls_ca_file"] = Path(values["tls_ca_file"])
    if "timeout" in values:
        values["timeout"] = float(values["timeout"])
    return ServerView(**values)


_SERVER_KEYS = frozenset(ServerView.__dataclass_fields__)
