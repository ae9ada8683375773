"""The config file: ``~/.config/tuimail/config.toml``, validated into typed models.

Every field has a docstring; they are the reference documentation. A problem in the file becomes
one ``ConfigError`` whose text names the file, the key and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from tuimail import ui_checks
from tuimail.config_plain import ACCOUNT_NAME, EMAIL, check_rules, command_words, read_toml
from tuimail.config_view import DEFAULT_PORTS, Auth, Security
from tuimail.errors import ConfigError

AccountName = Annotated[str, Field(pattern=f"^{ACCOUNT_NAME}$")]

_SECRET_KEYS = ("password", "token")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    """How to reach and log in to one server."""

    host: str = Field(min_length=1)
    """Host name of the server, e.g. ``imap.example.com``."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """TCP port; the default follows ``security`` (IMAP 993/143, POP3 995/110, SMTP 465/587)."""
    security: Security = "tls"
    """``tls`` (implicit TLS), ``starttls`` (mandatory upgrade) or ``none`` (loopback only)."""
    allow_insecure: bool = False
    """Allow ``security = "none"`` to a host that is not on this machine."""
    username: str | None = None
    """Login name; defaults to the account's email address."""
    password_command: str | None = None
    """Shell command whose first output line is the password (``pass show mail/work``)."""
    password: SecretStr | None = None
    """The password in clear text. Discouraged: prefer password_command or the keyring."""
    oauth2_token_command: str | None = None
    """Shell command that prints an OAuth2 access token; enables XOAUTH2/OAUTHBEARER."""
    auth: Auth = "auto"
    """Authentication mechanism; ``auto`` picks the best the server offers."""
    tls_ca_file: Path | None = None
    """PEM file of a private CA to trust instead of the system certificate store."""
    tls_verify: bool = True
    """Verify the server certificate. Turning this off is warned about on every connect."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait for the server before giving up on a read or connect."""

    @model_validator(mode="after")
    def _one_secret_source(self) -> ServerConfig:
        if self.password is not None and self.password_command is not None:
            raise ValueError("set either password or password_command, not both")
        return self

    def port_for(self, protocol: str) -> int:
        """The configured port, or the default for this protocol and security."""
        return self.port or DEFAULT_PORTS[protocol][self.security]


class Pop3Config(ServerConfig):
    """A POP3 server: the local store becomes the only copy of downloaded mail."""

    leave_on_server: bool = True
    """Keep messages on the server after they are safely stored here."""
    delete_after_days: int | None = Field(default=None, ge=0)
    """With leave_on_server, delete from the server once a stored message is this many days old."""


class Identity(_Strict):
    """A From address the account may send as."""

    email: str
    """The address."""
    display_name: str = ""
    """The name shown beside the address."""
    signature: str = ""
    """Text appended below ``-- `` in new messages from this identity."""


class FolderNames(_Strict):
    """Which IMAP folder plays which part, for servers that do not mark them (RFC 6154).

    A folder the server marks (``\\Sent``, ``\\Trash``...) wins; without a mark, the name here;
    without either, the usual names (Sent, Sent Items, Gesendet, ``[Gmail]/Sent Mail``...).
    """

    sent: str | None = Field(default=None, min_length=1)
    """Folder that keeps a copy of each message you send, e.g. ``"Sent Items"``."""
    drafts: str | None = Field(default=None, min_length=1)
    """Folder for unfinished messages, e.g. ``"Drafts"``."""
    trash: str | None = Field(default=None, min_length=1)
    """Folder that deleted messages move to (``d``), e.g. ``"Deleted Items"``."""
    junk: str | None = Field(default=None, min_length=1)
    """Folder for spam, e.g. ``"Junk E-mail"``."""
    archive: str | None = Field(default=None, min_length=1)
    """Folder that archived messages move to, e.g. ``"Archive"``."""


class AccountConfig(_Strict):
    """One mail account: exactly one of imap / pop3 for receiving, smtp for sending."""

    email: str
    """The account's main address."""
    display_name: str = ""
    """Your name as others see it."""
    imap: ServerConfig | None = None
    """The IMAP server (the server is the source of truth; the store is a cache)."""
    pop3: Pop3Config | None = None
    """The POP3 server (the store holds your mail)."""
    smtp: ServerConfig | None = None
    """The SMTP submission server."""
    sendmail_command: str | None = Field(default=None, min_length=1)
    """Send through a program instead of ``[smtp]``, e.g. ``"msmtp -a work"`` or
    ``"/usr/sbin/sendmail -oi"``: it gets the message on standard input and the recipients
    (Bcc too) as arguments after ``--``; a ``-t`` in it is dropped, since tuimail never writes
    Bcc into the message. No shell: the command is split like a shell would (quotes work).
    A non-zero exit keeps the message queued, with the command's error output as the reason."""
    identities: tuple[Identity, ...] = ()
    """Further From addresses; replies pick the one the message was sent to."""
    signature: str = ""
    """Signature for the main address."""
    offline: Literal["headers", "full"] = "headers"
    """``full`` downloads every body for offline reading; ``headers`` fetches bodies on demand."""
    poll_interval: int = Field(default=300, ge=10)
    """Seconds between checks of folders that are not open (IMAP) or of the POP3 server."""
    send_delay: int = Field(default=10, ge=0, le=3600)
    """Seconds a sent message waits in the outbox before it goes, so it can be taken back
    (``u`` in the interface, ``tuimail outbox --cancel ID``); 0 sends at once. The wait
    survives a quit or a crash: the next tuimail to run sends the message when it is due."""
    folders: FolderNames = Field(default_factory=FolderNames)
    """IMAP folder names by role (sent, drafts, trash, junk, archive), where the server does not
    mark them; names as the folder list shows them, with the server's separator."""

    @model_validator(mode="after")
    def _one_receiver(self) -> AccountConfig:
        if (self.imap is None) == (self.pop3 is None):
            raise ValueError("set exactly one of [imap] or [pop3] for receiving mail")
        if not EMAIL.match(self.email):
            raise ValueError(f"email {self.email!r} is not an address like ann@example.com")
        if self.smtp is not None and self.sendmail_command is not None:
            raise ValueError("set either [smtp] or sendmail_command, not both")
        if self.sendmail_command is not None and not command_words(self.sendmail_command):
            raise ValueError("sendmail_command: not a command (check its quotes)")
        return self

    @property
    def can_send(self) -> bool:
        """Whether the account has a way to send: ``[smtp]`` or ``sendmail_command``."""
        return self.smtp is not None or self.sendmail_command is not None

    @property
    def kind(self) -> Literal["imap", "pop3"]:
        """Which protocol receives mail for this account."""
        return "imap" if self.imap is not None else "pop3"

    @property
    def receiver(self) -> ServerConfig:
        """The IMAP or POP3 server settings."""
        server = self.imap or self.pop3
        assert server is not None  # guaranteed by _one_receiver
        return server


class UIConfig(_Strict):
    """Look and keys of the terminal interface."""

    theme: str = "dark"
    """Theme name: a file in themes/ or ~/.config/tuimail/themes/ without .toml."""
    keys: dict[str, str] = Field(default_factory=dict)
    """Binding id -> key(s), e.g. ``reply = "r"``; ``?`` in the app lists the ids."""
    bell: bool = False
    """Ring the terminal bell when new mail arrives (mail that came in while tuimail watched,
    not a folder's first sync nor a message you moved; not in Sent, Drafts, Trash, Junk or
    Archive)."""
    notify: Literal["none", "osc777", "osc9", "both"] = "none"
    """A desktop notification for new mail, sent through the terminal (it reaches your own
    machine over SSH): ``osc777`` (foot, urxvt, WezTerm, Ghostty, VTE terminals),
    ``osc9`` (iTerm2, kitty, WezTerm, Windows Terminal) or ``both``. Off by default, as
    mutt's; a terminal that knows neither ignores it (tmux needs ``allow-passthrough``)."""
    on_new_mail_command: str | None = Field(default=None, min_length=1)
    """A shell command run on new mail, e.g. ``"notify-send tuimail \"$TUIMAIL_NEW_FROM\""``;
    it finds the mail in its environment, never in the command line: ``TUIMAIL_NEW_COUNT``,
    ``TUIMAIL_NEW_FROM``, ``TUIMAIL_NEW_SUBJECT`` (the newest), ``TUIMAIL_ACCOUNT``,
    ``TUIMAIL_FOLDER``. The interface does not wait for it; a failure is logged."""
    layout: Literal["right", "below"] = "right"
    """Where the message view goes beside the index."""
    threads: bool = False
    """Start with the threaded index."""
    contacts: Path | None = None
    """A vCard file (``~/contacts.vcf``) whose names and addresses join address completion;
    read only, never written."""
    address_book_command: str | None = Field(default=None, min_length=1)
    """A mutt ``query_command`` asked as you type in To, Cc and Bcc, e.g.
    ``"khard email --parsable %s"`` or ``"abook --mutt-query %s"``: ``%s`` becomes the typed
    text as one argument (no shell). Its lines ``address<TAB>name`` join the completion."""
    address_book_timeout: float = Field(default=2.0, gt=0)
    """Seconds address_book_command may take; a slower answer is dropped, typing never waits."""
    confirm_quit: bool = True
    """``q`` on the index asks before quitting (``y``, or ``q`` again); it says when messages
    wait unsent in the outbox or a bulk action runs. False: quit on the first ``q``."""
    pipe_split: bool = False
    """``|`` on tagged messages (``;`` then ``|``): false pipes them to one run of the command as
    one mbox stream (what ``git am`` reads); true runs the command once per message (mutt's
    ``pipe_split``)."""
    pipe_decode: bool = False
    """``|`` starts on the decoded text (what the message view shows) instead of the raw
    message (mutt's ``pipe_decode``); Tab at the prompt switches for one command."""

    @model_validator(mode="after")
    def _address_book_command_splits(self) -> UIConfig:
        if self.address_book_command is not None and not command_words(self.address_book_command):
            raise ValueError("address_book_command: not a command (check its quotes)")
        return self


class Config(_Strict):
    """The whole config file."""

    accounts: dict[AccountName, AccountConfig] = Field(default_factory=dict)
    """Accounts by name; the name is used as ``ACCOUNT/FOLDER`` on the command line."""
    ui: UIConfig = Field(default_factory=UIConfig)
    """The terminal interface."""


class LoadedConfig:
    """A validated config plus where it came from and the warnings it deserves."""

    def __init__(self, config: Config, path: Path | None, warnings: list[str]) -> None:
        self.config = config
        self.path = path
        self.warnings = warnings

    @property
    def accounts(self) -> dict[str, AccountConfig]:
        return self.config.accounts

    def account(self, name: str) -> AccountConfig:
        """The named account, or a ConfigError listing the ones that exist."""
        try:
            return self.config.accounts[name]
        except KeyError:
            known = ", ".join(self.config.accounts) or "none"
            raise ConfigError(f"no account named {name!r} (configured: {known})") from None


def load_config(path: Path) -> LoadedConfig:
    """Read and validate ``path``; raise one ConfigError line naming file, key and problem."""
    return validate_file(read_toml(path), path)


def validate_file(data: dict[str, Any], path: Path) -> LoadedConfig:
    """Validate the TOML read from the config file at ``path``."""
    loaded = parse_config(data, path)
    # The interface's names too, so every command refuses what the interface would.
    ui_checks.check_keys(str(path), loaded.config.ui.keys)
    ui_checks.check_theme(str(path), loaded.config.ui.theme)
    return loaded


def parse_config(data: dict[str, Any], path: Path | None = None) -> LoadedConfig:
    """Validate already-parsed TOML data (also used by the demo and the setup form)."""
    where = str(path) if path else "config"
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(where, exc)) from None
    warnings = _check(config, path)
    return LoadedConfig(config, path, warnings)


def _describe(where: str, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key (check the spelling)"
    elif first["type"] == "missing":
        message = "this key is required"
    line = f"{where}: {key}: {message}"
    secret = any(word in key for word in _SECRET_KEYS)
    if first["type"] not in ("missing", "extra_forbidden") and not secret and "input" in first:
        shown = repr(first["input"])
        if len(shown) <= 60 and not isinstance(first["input"], dict):
            line += f" (got {shown})"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return line


def _check(config: Config, path: Path | None) -> list[str]:
    """Rules that need more than one field (shared with the plain check); returns warnings."""
    servers = {
        name: {"imap": account.imap, "pop3": account.pop3, "smtp": account.smtp}
        for name, account in config.accounts.items()
    }
    return check_rules(str(path) if path else "config", servers, config.ui.contacts, path)
