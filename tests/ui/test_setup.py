"""The setup form, driven by keys against the private Dovecot and the test SMTP server."""

from __future__ import annotations

import stat
from functools import partial
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from tests.harness.dovecot import Dovecot, MailUser, free_port
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_onboarding import MemoryKeyring, ca_bundle, memory_keyring, smtp_for
from tests.ui.pilot import screen_text, settle
from tuimail.config import load_config
from tuimail.sync.onboarding import ServerChoice, propose
from tuimail.ui.screens.setup import FormValues, SetupScreen
from tuimail.ui.setup_app import SetupApp

pytestmark = pytest.mark.timeout(60)
__all__ = ["ca_bundle", "memory_keyring", "smtp_for"]  # fixtures shared with the sync tests


def finder(dovecot: Dovecot, smtp: SmtpTestServer, ca: Path) -> partial[object]:
    """``propose`` with the test servers standing in for imap.DOMAIN and smtp.DOMAIN."""
    imap = [
        ServerChoice("127.0.0.1", free_port(), "tls"),  # nothing listens: skipped
        ServerChoice("127.0.0.1", dovecot.imaps_port, "tls"),
    ]
    candidates = (imap, [ServerChoice("127.0.0.1", smtp.port, "starttls")])
    return partial(propose, candidates=candidates, ca_file=ca, timeout=5)


async def type_into(pilot: Pilot[str | None], selector: str, text: str) -> None:
    """Focus a field and type ``text`` into it key by key, as a user would."""
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.pause()
    await pilot.press(*text)


async def paste_into(pilot: Pilot[str | None], selector: str, text: str) -> None:
    """Focus a field and paste ``text`` into it (how a long path gets typed)."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    widget.post_message(events.Paste(text))
    await pilot.pause()


def status(pilot: Pilot[str | None]) -> str:
    """The form's status line, whole (the screen may wrap it)."""
    return str(pilot.app.screen.query_one("#setup-status", Static).content)


def field(pilot: Pilot[str | None], name: str) -> str:
    widget = pilot.app.screen.query_one(f"#setup-{name}")
    return str(widget.value) if isinstance(widget, Input | Select) else ""


async def fill_form(pilot: Pilot[str | None], user: MailUser, ca: Path, password: str) -> None:
    """Address, then Enter (finds the servers), the password, the login name and the CA."""
    await type_into(pilot, "#setup-email", f"{user.name}@example.org")
    await pilot.press("enter")
    await settle(pilot)
    await type_into(pilot, "#setup-password", password)
    await type_into(pilot, "#setup-username", user.name)
    await paste_into(pilot, "#setup-ca_file", str(ca))


async def test_the_form_finds_the_servers_tests_the_login_and_saves_the_account(
    tmp_path: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_for: SmtpTestServer,
    ca_bundle: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "config.toml"
    app = SetupApp(path, finder=finder(dovecot, smtp_for, ca_bundle))
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#setup-email", f"{mail_user.name}@example.org")
        assert field(pilot, "account") == "example"  # follows the domain
        await pilot.press("enter")
        await settle(pilot)
        # The guess that answered with a verified certificate fills the fields.
        assert field(pilot, "imap_host") == "127.0.0.1"
        assert field(pilot, "imap_port") == str(dovecot.imaps_port)
        assert (field(pilot, "smtp_port"), field(pilot, "smtp_security")) == (
            str(smtp_for.port),
            "starttls",
        )
        assert "found IMAP 127.0.0.1" in screen_text(app)
        assert isinstance(app.focused, Input) and app.focused.id == "setup-password"
        await pilot.press(*mail_user.password)
        await type_into(pilot, "#setup-username", mail_user.name)
        await paste_into(pilot, "#setup-ca_file", str(ca_bundle))
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert app.return_value == "example"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert mail_user.password not in path.read_text()
    account = load_config(path).account("example")
    assert account.imap is not None and account.imap.username == mail_user.name
    assert account.smtp is not None and account.smtp.port == smtp_for.port
    key = f"example/imap/{mail_user.name}@127.0.0.1"
    assert memory_keyring.passwords[("tuimail", key)] == mail_user.password
    assert [login.success for login in smtp_for.logins] == [True]


async def test_a_wrong_password_shows_one_line_and_writes_nothing(
    tmp_path: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_for: SmtpTestServer,
    ca_bundle: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "config.toml"
    app = SetupApp(path, finder=finder(dovecot, smtp_for, ca_bundle))
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_form(pilot, mail_user, ca_bundle, "not-the-password")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)  # still there, to correct the password
        shown = screen_text(app)
        line = f"IMAP server 127.0.0.1:{dovecot.imaps_port} refused the login"
        assert status(pilot).startswith(line) and "\n" not in status(pilot)
        assert line in shown
        assert "not-the-password" not in shown
    assert not path.exists()
    assert memory_keyring.passwords == {}


async def test_a_taken_account_name_is_refused_before_any_login(
    tmp_path: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_for: SmtpTestServer,
    ca_bundle: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    path = tmp_path / "config.toml"
    before = '[accounts.example]\nemail = "a@example.org"\n[accounts.example.imap]\nhost = "h"\n'
    path.write_text(before)
    app = SetupApp(path, finder=finder(dovecot, smtp_for, ca_bundle), taken=frozenset({"example"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_form(pilot, mail_user, ca_bundle, mail_user.password)
        assert field(pilot, "account") == "example-2"  # the default avoids the taken name
        account = app.screen.query_one("#setup-account", Input)
        account.value = "example"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status(pilot) == f"an account named 'example' already exists in {path}"
        assert "an account named 'example' already exists" in screen_text(app)
    assert path.read_text() == before
    assert smtp_for.logins == [] and memory_keyring.passwords == {}


async def test_escape_leaves_without_writing_anything(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "config.toml"
    values = FormValues(email="ann@example.org", password="s3cret", imap_host="imap.example.org")
    app = SetupApp(path, values=values)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_value is None
    assert not path.exists() and memory_keyring.passwords == {}


async def test_a_known_provider_fills_its_servers_and_says_what_its_users_need(
    tmp_path: Path,
) -> None:
    app = SetupApp(tmp_path / "config.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#setup-email", "ann@fastmail.com")
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert (field(pilot, "imap_host"), field(pilot, "imap_port")) == (
            "imap.fastmail.com",
            "993",
        )
        assert (field(pilot, "smtp_host"), field(pilot, "smtp_port")) == (
            "smtp.fastmail.com",
            "465",
        )
        assert "Fastmail: use an app password" in screen_text(app)
        # Switching to STARTTLS moves a standard port along with it.
        app.screen.query_one("#setup-smtp_security", Select).value = "starttls"
        await pilot.pause()
        assert field(pilot, "smtp_port") == "587"
