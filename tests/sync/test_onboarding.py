"""Setting up an account: proposed servers, probing, the login test, and the written config."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from keyring.backend import KeyringBackend

from tests.harness.dovecot import Dovecot, MailUser, free_port
from tests.harness.smtp import SmtpTestServer
from tuimail.config import load_config
from tuimail.errors import AuthError, ConfigError, NotAllowed, SecretError
from tuimail.sync.doctor import Check, diagnose
from tuimail.sync.onboarding import NewAccount, ServerChoice, default_name, propose, verify_and_save
from tuimail.sync.onboarding.account_file import render_account
from tuimail.sync.onboarding.new_account import verify
from tuimail.sync.onboarding.providers import PROVIDERS, guesses

pytestmark = pytest.mark.timeout(60)


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict: the tests never touch the system keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring in place of the system's for one test."""
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def ca_bundle(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpTestServer) -> Path:
    """One PEM file trusting both test servers' CAs, as a user's private CA file would."""
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_bytes(dovecot.ca_file.read_bytes() + smtp_server.ca_file.read_bytes())
    return bundle


@pytest.fixture
def smtp_for(smtp_server: SmtpTestServer, mail_user: MailUser) -> SmtpTestServer:
    """The SMTP test server accepting the Dovecot user's login, like one provider's servers."""
    smtp_server.username = mail_user.name
    smtp_server.password = mail_user.password
    return smtp_server


def new_account(
    dovecot: Dovecot, user: MailUser, smtp: SmtpTestServer, ca: Path, **changes: object
) -> NewAccount:
    account = NewAccount(
        name="work",
        email=f"{user.name}@example.org",
        imap=ServerChoice(dovecot.host, dovecot.imaps_port, "tls"),
        smtp=ServerChoice(smtp.host, smtp.port, "starttls"),
        password=user.password,
        display_name='Zoë "Z" Tester',
        username=user.name,
        tls_ca_file=ca,
    )
    return replace(account, **changes)  # type: ignore[arg-type]


# -- proposals ----------------------------------------------------------------------------------


async def test_a_known_provider_is_proposed_from_the_table_without_probing() -> None:
    proposal = await propose("Ann.Example@GMail.com")
    assert proposal.provider == "Gmail"
    assert proposal.imap == ServerChoice("imap.gmail.com", 993, "tls")
    assert proposal.smtp == ServerChoice("smtp.gmail.com", 465, "tls")
    assert "app password" in proposal.note
    outlook = await propose("ann@hotmail.com")
    assert outlook.imap == ServerChoice("outlook.office365.com", 993, "tls")
    assert outlook.smtp == ServerChoice("smtp-mail.outlook.com", 587, "starttls")


def test_every_provider_uses_the_standard_port_for_its_security() -> None:
    standard = {("tls", 993), ("starttls", 143), ("tls", 465), ("starttls", 587)}
    names = {provider.name for provider in PROVIDERS.values()}
    assert {"Gmail", "Outlook.com", "Yahoo", "iCloud", "Fastmail", "GMX", "Posteo"} <= names
    assert {"mailbox.org", "Zoho"} <= names
    for provider in PROVIDERS.values():
        assert (provider.imap.security, provider.imap.port) in standard
        assert (provider.smtp.security, provider.smtp.port) in standard


def test_an_unknown_domain_gets_imap_mail_and_smtp_guesses_tls_first() -> None:
    imap, smtp = guesses("example.org")
    assert [str(c) for c in imap] == [
        "imap.example.org:993 (tls)",
        "imap.example.org:143 (starttls)",
        "mail.example.org:993 (tls)",
        "mail.example.org:143 (starttls)",
    ]
    assert [str(c) for c in smtp] == [
        "smtp.example.org:465 (tls)",
        "smtp.example.org:587 (starttls)",
        "mail.example.org:465 (tls)",
        "mail.example.org:587 (starttls)",
    ]


async def test_probing_proposes_the_first_guess_that_answers_with_verified_tls(
    dovecot: Dovecot, smtp_server: SmtpTestServer, ca_bundle: Path
) -> None:
    closed = free_port()
    imap = [
        ServerChoice("127.0.0.1", closed, "tls"),  # nothing listens
        ServerChoice("127.0.0.1", dovecot.imap_port, "tls"),  # plain text: TLS fails
        ServerChoice("127.0.0.1", dovecot.imaps_port, "tls"),
        ServerChoice("127.0.0.1", dovecot.imap_port, "starttls"),
    ]
    smtp = [
        ServerChoice("127.0.0.1", smtp_server.port, "starttls"),
        ServerChoice("127.0.0.1", smtp_server.tls_port, "tls"),
    ]
    proposal = await propose(
        "ann@example.org", candidates=(imap, smtp), ca_file=ca_bundle, timeout=5
    )
    assert proposal.imap == imap[2]
    assert proposal.smtp == smtp[0]
    assert proposal.note == f"found IMAP {imap[2]}; SMTP {smtp[0]}"


async def test_a_guess_whose_certificate_is_not_trusted_is_not_proposed(
    dovecot: Dovecot,
) -> None:
    imap = [ServerChoice("127.0.0.1", dovecot.imaps_port, "tls")]
    smtp = [ServerChoice("127.0.0.1", free_port(), "tls")]
    proposal = await propose("ann@example.org", candidates=(imap, smtp), timeout=5)
    assert proposal.imap is None and proposal.smtp is None
    assert "no usable IMAP server" in proposal.note
    assert "certificate verify failed" in proposal.note
    assert "no SMTP server answered at 127.0.0.1" in proposal.note


async def test_a_domain_where_nothing_answers_says_so_in_one_line() -> None:
    proposal = await propose("ann@no-such-domain.invalid", timeout=2)
    assert (proposal.imap, proposal.smtp) == (None, None)
    assert proposal.note == (
        "no IMAP server answered at imap.no-such-domain.invalid or mail.no-such-domain.invalid; "
        "no SMTP server answered at mail.no-such-domain.invalid or smtp.no-such-domain.invalid"
    )


async def test_an_address_without_a_domain_is_refused() -> None:
    with pytest.raises(ConfigError, match="is not an email address"):
        await propose("ann")


def test_the_default_account_name_is_the_domains_first_label_and_unused() -> None:
    assert default_name("ann@work.example.com") == "work"
    assert default_name("ann@gmail.com", {"gmail", "gmail-2"}) == "gmail-3"
    assert default_name("ann@_x.example") == "x"


# -- the login test -----------------------------------------------------------------------------


async def test_the_login_test_logs_in_to_imap_and_smtp(
    dovecot: Dovecot, mail_user: MailUser, smtp_for: SmtpTestServer, ca_bundle: Path
) -> None:
    seen: list[Check] = []
    await verify(new_account(dovecot, mail_user, smtp_for, ca_bundle), seen.append)
    steps = [(c.server, c.name) for c in seen if c.ok]
    assert ("imap", "login") in steps and ("imap", "folders") in steps
    assert ("smtp", "starttls") in steps and ("smtp", "login") in steps
    assert all(c.ok for c in seen)


async def test_a_wrong_password_fails_the_login_test_in_one_line(
    dovecot: Dovecot, mail_user: MailUser, smtp_for: SmtpTestServer, ca_bundle: Path
) -> None:
    account = new_account(dovecot, mail_user, smtp_for, ca_bundle, password="Not-It-42")
    with pytest.raises(AuthError) as info:
        await verify(account)
    line = str(info.value)
    assert line.startswith(f"IMAP server 127.0.0.1:{dovecot.imaps_port} refused the login")
    assert "\n" not in line and "Not-It-42" not in line


# -- the config file ----------------------------------------------------------------------------


async def test_a_saved_account_loads_has_mode_0600_and_its_password_only_in_the_keyring(
    tmp_path: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_for: SmtpTestServer,
    ca_bundle: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "new-dir" / "config.toml"
    await verify_and_save(path, new_account(dovecot, mail_user, smtp_for, ca_bundle))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert mail_user.password.encode() not in path.read_bytes()
    loaded = load_config(path)
    assert loaded.warnings == []
    account = loaded.account("work")
    assert account.email == f"{mail_user.name}@example.org"
    assert account.display_name == 'Zoë "Z" Tester'
    assert account.imap is not None and account.imap.port == dovecot.imaps_port
    assert account.smtp is not None and account.smtp.security == "starttls"
    assert account.imap.password is None and account.imap.password_command is None
    assert memory_keyring.passwords == {
        ("tuimail", f"work/imap/{mail_user.name}@127.0.0.1"): mail_user.password,
        ("tuimail", f"work/smtp/{mail_user.name}@127.0.0.1"): mail_user.password,
    }
    # The file as written is enough for a sync: doctor logs in with the keyring's password.
    found: list[Check] = []
    assert await diagnose(loaded, None, found.append), [c for c in found if not c.ok]


async def test_adding_to_an_existing_file_keeps_it_and_refuses_a_taken_name(
    tmp_path: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_for: SmtpTestServer,
    ca_bundle: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "config.toml"
    before = (
        '# my mail\n[ui]\ntheme = "light"\n\n[accounts.home]\nemail = "a@home.example"\n'
        '[accounts.home.imap]\nhost = "imap.home.example"\npassword_command = "pass x"\n'
    )
    path.write_text(before)
    account = new_account(
        dovecot,
        mail_user,
        smtp_for,
        ca_bundle,
        password="",
        password_command=f"echo {mail_user.password}",
    )
    await verify_and_save(path, account)
    text = path.read_text()
    assert text.startswith(before)
    loaded = load_config(path)
    assert list(loaded.accounts) == ["home", "work"]
    assert loaded.config.ui.theme == "light"
    work = loaded.account("work")
    assert work.imap is not None and work.imap.password_command == f"echo {mail_user.password}"
    assert memory_keyring.passwords == {}

    with pytest.raises(NotAllowed) as info:
        await verify_and_save(path, replace(account, name="home"))
    assert str(info.value) == f"an account named 'home' already exists in {path}"
    assert path.read_text() == text


async def test_a_failed_login_writes_nothing_and_stores_no_password(
    tmp_path: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_for: SmtpTestServer,
    ca_bundle: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "config.toml"
    account = new_account(dovecot, mail_user, smtp_for, ca_bundle, password="wrong")
    with pytest.raises(AuthError):
        await verify_and_save(path, account)
    assert not path.exists()
    assert memory_keyring.passwords == {}


async def test_without_a_usable_keyring_the_form_asks_for_a_password_command(
    tmp_path: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_for: SmtpTestServer,
    ca_bundle: Path,
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # a server without a keyring
    try:
        path = tmp_path / "config.toml"
        with pytest.raises(SecretError) as info:
            await verify_and_save(path, new_account(dovecot, mail_user, smtp_for, ca_bundle))
    finally:
        keyring.set_keyring(previous)
    assert str(info.value) == (
        "the keyring cannot store passwords here (NoKeyringError); use password_command instead"
    )
    assert not path.exists()


def test_names_and_values_that_need_quoting_survive_the_round_trip() -> None:
    table = {
        "email": "ann@example.org",
        "display_name": 'Ann "the \\ Admin" Ü\x07\x7f',
        "imap": {"host": "imap.example.org", "port": 993, "security": "tls"},
    }
    text = render_account("mailbox.org", table)
    assert text.startswith('[accounts."mailbox.org"]\n')
    assert tomllib.loads(text) == {"accounts": {"mailbox.org": table}}


async def test_the_password_is_required_unless_a_command_gives_it(tmp_path: Path) -> None:
    account = NewAccount("x", "ann@example.org", ServerChoice("imap.example.org", 993, "tls"), None)
    with pytest.raises(ConfigError, match="enter the password"):
        await verify_and_save(tmp_path / "config.toml", account)
    assert "s3cret-xyz" not in repr(replace(account, password="s3cret-xyz"))
