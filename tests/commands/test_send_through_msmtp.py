"""`tuimail send` on an account with sendmail_command: a real msmtp carries it to the relay."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.harness.accounts import write_config
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_outbox_sendmail import msmtprc
from tuimail.cli import main

pytestmark = pytest.mark.timeout(30)


def test_send_hands_the_message_to_msmtp_with_bcc_in_the_envelope_only(
    tmp_path: Path, data_dir: Path, smtp_relay: SmtpTestServer
) -> None:
    rc = msmtprc(tmp_path, smtp_relay)
    config = write_config(
        tmp_path / "config.toml",
        home={
            "email": "sender@example.org",
            "sendmail_command": f"msmtp -C {rc} -t",
            "pop3": {"host": "127.0.0.1", "security": "none"},
            "send_delay": 0,
        },
    )
    result = CliRunner().invoke(
        main,
        ["--config", str(config), "send", "--to", "ann@example.com", "--bcc", "bo@example.com"],
        input="Hi\n",
    )

    assert result.exit_code == 0, result.output
    [arrived] = smtp_relay.messages
    assert sorted(arrived.rcpt_tos) == ["ann@example.com", "bo@example.com"]
    message = BytesParser(policy=policy.default).parsebytes(arrived.raw)
    assert message["Bcc"] is None and message["To"] == "ann@example.com"
    assert message.get_content().strip() == "Hi"
