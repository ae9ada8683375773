"""An [smtp] relay without authentication: no password, no keyring, the mail still goes."""

from __future__ import annotations

import pytest

from tests.harness.smtp import SmtpTestServer
from tuimail.config import AccountConfig, ServerConfig
from tuimail.mail.compose import Identity, finalize, new_message
from tuimail.store.db import Store
from tuimail.sync.outbox import Outbox

pytestmark = pytest.mark.timeout(30)

ME = Identity("sender@example.org", "Sender", "")


async def _nowhere(account: str, raw: bytes) -> None:
    return None


def relay_account(server: SmtpTestServer) -> AccountConfig:
    """An account whose [smtp] names only the relay: no username, no password of any kind."""
    return AccountConfig(
        email="sender@example.org",
        imap=ServerConfig(host="127.0.0.1"),
        smtp=ServerConfig(host=server.host, port=server.port, security="none", timeout=5),
    )


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose keyring cannot be read (as on a server without a desktop session)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)


async def test_a_relay_without_auth_gets_the_message_without_any_password_or_keyring(
    store: Store, smtp_relay: SmtpTestServer, no_keyring: None
) -> None:
    outbox = Outbox(store, {"relay": relay_account(smtp_relay)}, sent_sink=_nowhere)
    msg = new_message(ME, ["ann@example.com"], [], [], "through the relay", "hello")
    raw, sender, recipients = finalize(msg, ME)
    await outbox.submit("relay", raw, sender, recipients)

    report = await outbox.flush()

    assert not report.account_errors
    assert [d.outcome for d in report.deliveries] == ["sent"]
    [arrived] = await smtp_relay.wait_for(1)
    assert arrived.rcpt_tos == ("ann@example.com",)
    assert smtp_relay.logins == []
    assert await outbox.items() == []


async def test_a_server_that_wants_a_login_still_gets_the_keyring_password_asked_for(
    store: Store, smtp_server: SmtpTestServer, no_keyring: None
) -> None:
    account = AccountConfig(
        email="sender@example.org",
        imap=ServerConfig(host="127.0.0.1"),
        smtp=ServerConfig(
            host=smtp_server.host,
            port=smtp_server.tls_port,
            security="tls",
            tls_ca_file=smtp_server.ca_file,
            timeout=5,
        ),
    )
    outbox = Outbox(store, {"work": account}, sent_sink=_nowhere)
    msg = new_message(ME, ["ann@example.com"], [], [], "needs a login", "hello")
    await outbox.submit("work", *finalize(msg, ME))

    report = await outbox.flush()

    assert "keyring could not be read" in report.account_errors["work"]
    assert len(await outbox.items()) == 1
    assert smtp_server.messages == []
