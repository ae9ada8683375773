"""tuimail doctor: each kind of misconfiguration fails at the right step, with the right fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.harness.accounts import config, imap_table, pop3_table, write_config
from tests.harness.dovecot import Dovecot, MailUser, free_port
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import smtp_table
from tuimail.cli import main
from tuimail.demo.servers import DemoServers
from tuimail.sync.doctor import Check, diagnose

pytestmark = pytest.mark.timeout(60)


async def checks(table: dict[str, Any]) -> list[Check]:
    found: list[Check] = []
    ok = await diagnose(config(x=table), None, found.append)
    assert ok == all(check.ok for check in found)
    return found


def verdicts(found: list[Check]) -> list[tuple[str, str, bool]]:
    return [(check.server, check.name, check.ok) for check in found]


def failure(found: list[Check]) -> Check:
    [failed] = [check for check in found if not check.ok]
    assert found[-1] is failed  # the first failure ends the server's checks
    return failed


@pytest.mark.parametrize(
    ("make_table", "port_name", "security", "kind"),
    [
        (imap_table, "imaps_port", "tls", "imap"),
        (imap_table, "imap_port", "starttls", "imap"),
        (pop3_table, "pop3s_port", "tls", "pop3"),
        (pop3_table, "pop3_port", "starttls", "pop3"),
    ],
)
async def test_a_working_account_passes_every_check_in_order(
    dovecot: Dovecot,
    mail_user: MailUser,
    make_table: Any,
    port_name: str,
    security: str,
    kind: str,
) -> None:
    port = getattr(dovecot, port_name)
    found = await checks(make_table(dovecot, mail_user, port=port, security=security))
    tls_step = "tls" if security == "tls" else "starttls"
    assert verdicts(found) == [
        (kind, step, True) for step in ("config", "dns", "tcp", tls_step, "login", "folders")
    ]
    tls = found[3].detail
    assert "TLSv1." in tls and "certificate verified for 127.0.0.1" in tls
    assert "folders" in found[-1].detail or "messages" in found[-1].detail


async def test_a_wrong_port_fails_at_tcp_and_names_the_usual_ports(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    port = free_port()
    failed = failure(await checks(imap_table(dovecot, mail_user, port=port)))
    assert failed.name == "tcp"
    assert failed.fix == (
        f"nothing listens on 127.0.0.1:{port}; the usual ports are 993 (tls) / 143 (starttls)"
    )


@pytest.mark.parametrize(
    ("port_name", "security"), [("imaps_port", "tls"), ("imap_port", "starttls")]
)
async def test_a_certificate_the_system_does_not_trust_fails_at_tls(
    dovecot: Dovecot, mail_user: MailUser, port_name: str, security: str
) -> None:
    table = imap_table(dovecot, mail_user, port=getattr(dovecot, port_name), security=security)
    del table["imap"]["tls_ca_file"]  # the system store does not know the test CA
    failed = failure(await checks(table))
    assert failed.name == ("tls" if security == "tls" else "starttls")
    assert "certificate verify failed" in failed.detail
    assert failed.fix == (
        "the certificate is not trusted: set tls_ca_file to your CA, or check the host name"
    )


async def test_tls_on_a_plain_text_port_says_the_server_does_not_speak_tls(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    failed = failure(await checks(imap_table(dovecot, mail_user, port=dovecot.imap_port)))
    assert failed.name == "tls"
    assert failed.fix.startswith("the server does not speak TLS on this port")


async def test_a_wrong_password_fails_at_login(dovecot: Dovecot, mail_user: MailUser) -> None:
    failed = failure(await checks(pop3_table(dovecot, mail_user, password="not-the-password")))
    assert failed.name == "login"
    assert "refused the login" in failed.detail
    assert failed.fix == (
        f"the server refused the login as {mail_user.name}: "
        "check username and password_command / the keyring"
    )


async def test_a_host_that_does_not_resolve_fails_at_dns(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    failed = failure(await checks(imap_table(dovecot, mail_user, host="no-such-host.invalid")))
    assert failed.name == "dns"
    assert "does not resolve" in failed.detail and "accounts.x.imap.host" in failed.fix


@pytest.fixture
def demo_servers() -> Iterator[DemoServers]:
    servers = DemoServers()
    servers.start()
    yield servers
    servers.stop()


async def test_starttls_asked_of_a_server_that_does_not_offer_it_fails_before_login(
    demo_servers: DemoServers,
) -> None:
    table = demo_servers.config_tables()["demo"]
    table["imap"]["security"] = "starttls"  # the demo IMAP server speaks plain text only
    del table["smtp"]
    failed = failure(await checks(table))
    assert failed.name == "starttls"
    assert failed.detail == "the IMAP server does not offer STARTTLS on this port"
    assert failed.fix.startswith('use security = "tls" and port 993')


async def test_the_smtp_server_is_checked_through_starttls_and_login(
    dovecot: Dovecot, mail_user: MailUser, smtp_server: SmtpTestServer
) -> None:
    table = imap_table(dovecot, mail_user)
    starttls = {"port": smtp_server.port, "security": "starttls"}
    table["smtp"] = smtp_table(smtp_server, **starttls)
    found = await checks(table)
    smtp = [(name, ok) for server, name, ok in verdicts(found) if server == "smtp"]
    assert smtp == [("dns", True), ("tcp", True), ("starttls", True), ("login", True)]

    table["smtp"] = smtp_table(smtp_server, password="wrong", **starttls)
    failed = failure(await checks(table))
    assert (failed.server, failed.name) == ("smtp", "login")
    assert "refused the login" in failed.fix


def run_doctor(tmp_path: Path, *args: str, **accounts: dict[str, Any]) -> Any:
    path = write_config(tmp_path / "config.toml", **accounts)
    env = {"TUIMAIL_DATA_DIR": str(tmp_path / "data"), "TUIMAIL_CONFIG": str(path)}
    return CliRunner().invoke(main, ["doctor", *args], env=env)


def test_doctor_prints_a_line_per_check_exits_1_on_failure_and_never_the_password(
    tmp_path: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    secret = "Wr0ng-but-s3cret"
    good = imap_table(dovecot, mail_user)
    bad = pop3_table(dovecot, mail_user, password=secret)
    result = run_doctor(tmp_path, good=good, bad=bad)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert [line.split()[2:4] for line in lines if line.startswith("good imap")] == [
        [step, "ok"] for step in ("config", "dns", "tcp", "tls", "login", "folders")
    ]
    [login] = [line for line in lines if line.startswith("bad pop3") and " login " in line]
    assert "FAIL" in login
    assert lines[lines.index(login) + 1].split()[0] == "fix:"
    assert secret not in result.output and mail_user.password not in result.output

    result = run_doctor(tmp_path, "good", good=good, bad=bad)
    assert result.exit_code == 0, result.output
    assert not [line for line in result.output.splitlines() if line.startswith("bad ")]


def test_doctor_with_a_broken_config_fails_the_config_check(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[accounts.x]\nemail = 'x@example.org'\n")
    env = {"TUIMAIL_DATA_DIR": str(tmp_path / "data"), "TUIMAIL_CONFIG": str(path)}
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("config   FAIL  ")
    assert "fix:" in result.output


async def test_a_relay_without_auth_passes_the_login_check_without_any_password(
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_relay: SmtpTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A machine whose keyring cannot be read: the check must not ask it.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    table = imap_table(dovecot, mail_user)
    table["smtp"] = {"host": smtp_relay.host, "port": smtp_relay.port, "security": "none"}
    found = await checks(table)
    [login] = [check for check in found if check.server == "smtp" and check.name == "login"]
    assert login.ok, login
    assert login.detail == "no login needed: the server offers none"
