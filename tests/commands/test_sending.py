"""`tuimail send --at`, the send delay and `tuimail outbox --cancel/--at/--flush`, against
aiosmtpd: a waiting message is listed with its time, goes only when due, and can be taken back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.harness.accounts import pop3_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import smtp_table
from tuimail.cli import main

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def config(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> Path:
    table = pop3_table(dovecot, mail_user)
    table["smtp"] = smtp_table(smtp_server)
    table["send_delay"] = 30
    return write_config(tmp_path / "config.toml", home=table)


def tuimail(config: Path, *args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def send_in_background(config: Path, *args: str) -> subprocess.Popen[str]:
    """`tuimail send` as a script runs it, the body on stdin; it prints the outbox id, then
    waits out the send delay."""
    body = config.parent / "body.txt"
    body.write_text("Hi\n")
    with body.open() as stdin:
        return subprocess.Popen(
            [sys.executable, "-m", "tuimail", "--config", str(config), "send", *args],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def test_send_waits_out_the_delay_and_outbox_cancel_takes_it_back_as_a_draft(
    config: Path, smtp_server: SmtpTestServer
) -> None:
    sending = send_in_background(config, "--to", "bob@example.net", "--subject", "Oops")
    assert sending.stdout is not None
    outbox_id = sending.stdout.readline().strip()  # queued: the command now waits 30 s
    assert outbox_id.isdigit()

    listing = tuimail(config, "outbox").stdout
    assert f"#{outbox_id} queued, goes " in listing and " s)" in listing  # "(in 30 s)"
    tuimail(config, "outbox", "--flush")  # not due yet: stays
    assert smtp_server.messages == []

    cancelled = tuimail(config, "outbox", "--cancel", outbox_id).stdout
    assert f"#{outbox_id} taken back as draft #" in cancelled
    assert "outbox is empty" in cancelled
    _, errors = sending.communicate(timeout=20)  # the waiting send sees it and ends
    assert sending.returncode == 0, errors
    assert f"outbox --cancel {outbox_id}" in errors and f"#{outbox_id} was taken back" in errors
    assert "to bob@example.net: Oops" in tuimail(config, "drafts").stdout
    assert smtp_server.messages == []


def test_send_with_a_delay_waits_it_out_and_then_sends_once(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    table = pop3_table(dovecot, mail_user)
    table["smtp"] = smtp_table(smtp_server)
    table["send_delay"] = 1
    config = write_config(tmp_path / "delay.toml", home=table)
    sending = send_in_background(config, "--to", "bob@example.net", "--subject", "Soon")
    output, errors = sending.communicate(timeout=30)
    assert sending.returncode == 0, errors
    outbox_id, sent = output.splitlines()
    assert outbox_id.isdigit() and "sent <" in sent
    [arrived] = smtp_server.messages
    assert b"Subject: Soon" in arrived.raw


def test_send_at_schedules_the_message_and_only_a_due_one_is_flushed_once(
    config: Path, smtp_server: SmtpTestServer
) -> None:
    sent = tuimail(
        config, "send", "--at", "+2h", "--to", "bob@example.net", "--subject", "Later", input="x\n"
    )
    outbox_id = sent.stdout.strip()
    listing = tuimail(config, "outbox", "--flush").stdout
    assert f"#{outbox_id} queued, goes " in listing and " h)" in listing  # "(in 2 h)"
    assert smtp_server.messages == []

    tuimail(config, "outbox", "--at", outbox_id, "now")
    flushed = tuimail(config, "outbox", "--flush").stdout
    assert "outbox is empty" in flushed
    [received] = asyncio.run(smtp_server.wait_for(1))
    assert b"Subject: Later" in received.raw
    tuimail(config, "outbox", "--flush")
    assert len(smtp_server.messages) == 1


def test_send_now_skips_the_delay_and_prints_the_message_id(
    config: Path, smtp_server: SmtpTestServer
) -> None:
    sent = tuimail(config, "send", "--now", "--to", "bob@example.net", input="x\n")
    assert sent.stdout.strip().startswith("<")
    assert len(asyncio.run(smtp_server.wait_for(1))) == 1


def test_send_at_refuses_a_time_it_cannot_read(config: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--config", str(config), "send", "--at", "someday", "--to", "b@example.net"],
        input="",
    )
    assert result.exit_code == 2 and "cannot read 'someday'" in result.output


def test_a_timers_flush_steps_aside_while_another_tuimail_holds_the_store(
    config: Path, data_dir: Path
) -> None:
    import os

    from tuimail.store.files import lock_store

    tuimail(config, "outbox")  # the store exists
    held = lock_store(data_dir / "mail.sqlite3")  # the interface is running
    try:
        result = CliRunner().invoke(main, ["--config", str(config), "outbox", "--flush"])
    finally:
        os.close(held)
    assert result.exit_code == 0, result.output
    assert "not flushed: another tuimail" in result.stderr


def test_a_timers_outbox_due_leaves_a_deferred_message_to_its_backoff_and_flush_sends_it(
    config: Path, smtp_server: SmtpTestServer
) -> None:
    smtp_server.mail_reply = "451 4.3.0 try again later"
    tuimail(config, "send", "--now", "--to", "b@example.net", input="Hi\n")  # queued, 4xx
    assert smtp_server.messages == []
    smtp_server.mail_reply = None
    tuimail(config, "outbox", "--due")  # every minute from a timer: the backoff still runs
    assert smtp_server.messages == []
    tuimail(config, "outbox", "--flush")  # the user's own "now"
    assert len(smtp_server.messages) == 1
