"""The setup form: an address and a password in, a tested account in the config file out.

"Find servers" fills the IMAP and SMTP fields from the provider table or from guesses that
answered (all still editable); "Test and save" logs in to both servers and only then stores
the password and writes the config. The network work runs in workers; what they find comes
back as messages and shows as one status line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from tuimail.config_view import DEFAULT_PORTS
from tuimail.errors import ConfigError, TuimailError
from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.doctor import Check
from tuimail.sync.onboarding import (
    NewAccount,
    Proposal,
    ServerChoice,
    default_name,
    propose,
    verify_and_save,
)
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import AccountSaved, ServersProposed, SetupStatus

Finder = Callable[[str], Awaitable[Proposal]]
Kind = Literal["imap", "smtp"]
_NAMES = {"imap": "IMAP", "smtp": "SMTP"}
_SECURITY = [("TLS", "tls"), ("STARTTLS", "starttls")]
_STORAGE = [("the system keyring", "keyring"), ("a password command", "command")]


@dataclass
class FormValues:
    """The form's fields as text, as typed (or prefilled by the command line and tests)."""

    email: str = ""
    password: str = ""
    display_name: str = ""
    account: str = ""
    username: str = ""
    imap_host: str = ""
    imap_port: str = ""
    imap_security: str = "tls"
    smtp_host: str = ""
    smtp_port: str = ""
    smtp_security: str = "tls"
    storage: str = "keyring"
    password_command: str = ""
    ca_file: str = ""

    def __repr__(self) -> str:  # the password must not reach a log through a repr
        return f"FormValues(email={self.email!r}, account={self.account!r})"


def _server(values: FormValues, kind: Kind) -> ServerChoice | None:
    host = getattr(values, f"{kind}_host").strip()
    if not host:
        return None
    security = getattr(values, f"{kind}_security")
    port_text = getattr(values, f"{kind}_port").strip()
    port = DEFAULT_PORTS[kind][security] if not port_text else _port(kind, port_text)
    return ServerChoice(host, port, security)


def _port(kind: Kind, text: str) -> int:
    if text.isdigit() and 1 <= int(text) <= 65535:
        return int(text)
    raise ConfigError(f"{_NAMES[kind]} port: enter a number from 1 to 65535")


def form_account(values: FormValues, taken: frozenset[str] = frozenset()) -> NewAccount:
    """The account the form describes, or one ConfigError line saying what to fill in."""
    email = values.email.strip()
    if "@" not in email:
        raise ConfigError("enter your email address, like ann@example.com")
    imap = _server(values, "imap")
    if imap is None:
        raise ConfigError("enter the IMAP server, or press Ctrl+F to find it")
    command = values.password_command.strip() if values.storage == "command" else ""
    if values.storage == "command" and not command:
        raise ConfigError("enter the password command, e.g. pass show mail/work")
    ca_file = values.ca_file.strip()
    return NewAccount(
        name=values.account.strip() or default_name(email, taken),
        email=email,
        imap=imap,
        smtp=_server(values, "smtp"),
        password="" if command else values.password,
        password_command=command,
        display_name=values.display_name.strip(),
        username=values.username.strip(),
        tls_ca_file=Path(ca_file).expanduser() if ca_file else None,
    )


class SetupScreen(ReportsFailures, Screen[str | None]):
    """The form; dismissed with the saved account's name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "find_servers", "Find servers", id="setup_find"),
        Binding("ctrl+s", "save", "Test and save", id="setup_save"),
        Binding("escape", "cancel", "Cancel", id="setup_cancel"),
    ]

    def __init__(
        self,
        config_path: Path,
        *,
        values: FormValues | None = None,
        taken: frozenset[str] = frozenset(),
        finder: Finder = propose,
    ) -> None:
        super().__init__()
        self.config_path = config_path
        self.initial = values or FormValues()
        self.taken = taken
        self.finder = finder
        self._auto_name = ""  # the account name we filled in, replaced while the user keeps it
        self._busy = False

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        v = self.initial
        with VerticalScroll(id="setup"):
            yield Static(Content("Set up a mail account"), id="setup-title")
            yield Static(
                Content("The login is tested first; the password never goes into the file."),
                id="setup-hint",
            )
            yield from self._row("Email", self._input("email", v.email, "ann@example.com"))
            yield from self._row("Password", self._input("password", v.password, password=True))
            yield from self._row("Your name", self._input("display_name", v.display_name))
            with Horizontal(classes="setup-row"):
                yield Label("Account", classes="setup-label")
                yield self._input("account", v.account, "a short name", classes="setup-short")
                yield Label("Login", classes="setup-label setup-inner")
                yield self._input("username", v.username, "blank: the email address")
            for kind in ("imap", "smtp"):
                with Horizontal(classes="setup-row"):
                    yield Label(_NAMES[kind], classes="setup-label")
                    yield self._input(f"{kind}_host", getattr(v, f"{kind}_host"), f"{kind}.…")
                    yield self._input(
                        f"{kind}_port",
                        getattr(v, f"{kind}_port"),
                        "port",
                        classes="setup-port",
                        restrict=r"[0-9]*",
                        max_length=5,
                    )
                    yield Select(
                        _SECURITY,
                        value=getattr(v, f"{kind}_security"),
                        allow_blank=False,
                        compact=True,
                        id=f"setup-{kind}_security",
                        classes="setup-security",
                    )
            with Horizontal(classes="setup-row"):
                yield Label("Password in", classes="setup-label")
                yield Select(
                    _STORAGE,
                    value=v.storage,
                    allow_blank=False,
                    compact=True,
                    id="setup-storage",
                )
                yield self._input("password_command", v.password_command, "pass show mail/work")
            yield from self._row(
                "CA file", self._input("ca_file", v.ca_file, "blank: the system's certificates")
            )
            with Horizontal(id="setup-buttons"):
                yield Button("Find servers", id="setup-find", compact=True)
                yield Button("Test and save", id="setup-save", variant="primary", compact=True)
                yield Button("Cancel", id="setup-cancel", compact=True)
            yield Static(id="setup-status")
        yield Footer()

    @staticmethod
    def _row(label: str, field: Input) -> ComposeResult:
        with Horizontal(classes="setup-row"):
            yield Label(label, classes="setup-label")
            yield field

    @staticmethod
    def _input(
        name: str, value: str, placeholder: str = "", classes: str = "", **options: object
    ) -> Input:
        return Input(
            value,
            placeholder,
            id=f"setup-{name}",
            classes=classes,
            compact=True,
            select_on_focus=False,
            **options,  # type: ignore[arg-type]
        )

    def on_mount(self) -> None:
        self._show_command_field()
        self.query_one("#setup-email", Input).focus()

    # -- reading and filling the form --------------------------------------------------------

    def values(self) -> FormValues:
        """What the form holds now."""
        found = FormValues()
        for item in fields(FormValues):
            widget = self.query_one(f"#setup-{item.name}")
            if isinstance(widget, Input):
                setattr(found, item.name, widget.value)
            elif isinstance(widget, Select):
                setattr(found, item.name, str(widget.value))
        return found

    def _fill(self, kind: Kind, choice: ServerChoice) -> None:
        self.query_one(f"#setup-{kind}_host", Input).value = choice.host
        self.query_one(f"#setup-{kind}_port", Input).value = str(choice.port)
        self.query_one(f"#setup-{kind}_security", Select).value = choice.security

    def _status(self, text: str, level: str) -> None:
        status = self.query_one("#setup-status", Static)
        status.update(Content(sanitize_line(text)))
        status.set_classes(f"-{level}")
        status.scroll_visible(animate=False)

    def _show_command_field(self) -> None:
        command = self.query_one("#setup-storage", Select).value == "command"
        self.query_one("#setup-password_command", Input).display = command

    # -- events ------------------------------------------------------------------------------

    @on(Input.Changed, "#setup-email")
    def _email_changed(self, event: Input.Changed) -> None:
        """Keep the account name following the domain until the user types their own."""
        account = self.query_one("#setup-account", Input)
        if "@" in event.value and account.value in ("", self._auto_name):
            self._auto_name = default_name(event.value, self.taken)
            account.value = self._auto_name

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; after the address it also looks for the servers."""
        if event.input.id == "setup-email" and not self.values().imap_host:
            self.action_find_servers()
        self.focus_next()

    @on(Select.Changed, ".setup-security")
    def _security_changed(self, event: Select.Changed) -> None:
        """A standard port follows the security (993 <-> 143, 465 <-> 587)."""
        kind: Kind = "imap" if event.select.id == "setup-imap_security" else "smtp"
        port = self.query_one(f"#setup-{kind}_port", Input)
        standard = DEFAULT_PORTS[kind]
        if port.value in (str(standard["tls"]), str(standard["starttls"])):
            port.value = str(standard[str(event.value)])

    @on(Select.Changed, "#setup-storage")
    def _storage_changed(self) -> None:
        self._show_command_field()

    @on(Button.Pressed, "#setup-find")
    def _find_pressed(self) -> None:
        self.action_find_servers()

    @on(Button.Pressed, "#setup-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#setup-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def on_servers_proposed(self, message: ServersProposed) -> None:
        proposal = message.proposal
        for kind, choice in (("imap", proposal.imap), ("smtp", proposal.smtp)):
            if choice is not None:
                self._fill(kind, choice)  # type: ignore[arg-type]
        found = proposal.imap is not None and proposal.smtp is not None
        self._status(proposal.note, "ok" if found else "error")

    def on_setup_status(self, message: SetupStatus) -> None:
        self._status(message.text, message.level)

    def on_account_saved(self, message: AccountSaved) -> None:
        self.dismiss(message.name)

    # -- actions -----------------------------------------------------------------------------

    def action_find_servers(self) -> None:
        """Propose servers for the address typed."""
        if self._busy:
            return
        email = self.values().email.strip()
        if "@" not in email:
            self._status("enter your email address first, like ann@example.com", "error")
            return
        self._status(f"looking for the servers of {email.rpartition('@')[2]}…", "busy")
        self._find(email)

    def action_save(self) -> None:
        """Test the login on both servers; save the account only if both accept it."""
        if self._busy:
            return
        try:
            account = form_account(self.values(), self.taken)
        except TuimailError as exc:
            self._status(str(exc), "error")
            return
        self._busy = True  # until the worker ends: a second Ctrl+S must not start another test
        self._status(f"testing {account.imap}…", "busy")
        self._save(account)

    def action_cancel(self) -> None:
        """Leave without saving anything."""
        self.dismiss(None)

    # -- workers -----------------------------------------------------------------------------

    @work(exclusive=True, group="setup-find", exit_on_error=False, description="finding servers")
    async def _find(self, email: str) -> None:
        try:
            self.post_message(ServersProposed(await self.finder(email)))
        except TuimailError as exc:
            self.post_message(SetupStatus(str(exc), "error"))

    @work(exclusive=True, group="setup-save", exit_on_error=False, description="testing the login")
    async def _save(self, account: NewAccount) -> None:
        def report(check: Check) -> None:
            if check.ok:
                text = f"{_NAMES[check.server]} {check.name} ok: {check.detail}"
                self.post_message(SetupStatus(text, "busy"))

        try:
            await verify_and_save(self.config_path, account, report)
        except TuimailError as exc:
            self.post_message(SetupStatus(str(exc), "error"))
        else:
            self.post_message(AccountSaved(account.name))
        finally:
            self._busy = False
