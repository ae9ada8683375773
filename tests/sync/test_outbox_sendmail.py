"""sendmail_command: the outbox hands messages to a real msmtp, or to a script standing in for
sendmail, and keeps its guarantees (queued on failure, Sent copy on success)."""

from __future__ import annotations

import json
import shlex
import stat
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.harness.smtp import SmtpTestServer
from tuimail.config import AccountConfig, Pop3Config
from tuimail.mail.compose import Identity, finalize, new_message
from tuimail.store import outbox_queries as oq
from tuimail.store.db import Store
from tuimail.sync.outbox import Outbox

pytestmark = pytest.mark.timeout(30)

ME = Identity("sender@example.org", "Sender", "")


def msmtprc(directory: Path, relay: SmtpTestServer) -> Path:
    """An msmtp config for the test relay: plain SMTP, no TLS, no AUTH."""
    path = directory / "msmtprc"
    path.write_text(
        "account default\n"
        f"host {relay.host}\nport {relay.port}\n"
        "tls off\nauth off\nfrom sender@example.org\n"
    )
    path.chmod(0o600)
    return path


def script(directory: Path, name: str, body: str) -> Path:
    """An executable shell script standing in for sendmail."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def account(command: str) -> AccountConfig:
    return AccountConfig(
        email="sender@example.org", pop3=Pop3Config(host="127.0.0.1"), sendmail_command=command
    )


class Copies:
    """The Sent copies the outbox stored."""

    def __init__(self) -> None:
        self.saved: list[bytes] = []

    async def __call__(self, account: str, raw: bytes) -> None:
        self.saved.append(raw)


async def queue_with_bcc(outbox: Outbox) -> bytes:
    msg = new_message(ME, ["ann@example.com"], ["cy@example.com"], ["bo@example.com"], "hi", "x")
    raw, sender, recipients = finalize(msg, ME)
    await outbox.submit("home", raw, sender, recipients)
    return raw


async def test_msmtp_with_t_delivers_to_bcc_too_and_no_bcc_header_arrives(
    store: Store, smtp_relay: SmtpTestServer, tmp_path: Path
) -> None:
    rc = msmtprc(tmp_path, smtp_relay)
    copies = Copies()
    outbox = Outbox(store, {"home": account(f"msmtp -C {rc} -t")}, sent_sink=copies)
    raw = await queue_with_bcc(outbox)

    report = await outbox.flush()

    assert [d.outcome for d in report.deliveries] == ["sent"], report
    [arrived] = await smtp_relay.wait_for(1)
    assert sorted(arrived.rcpt_tos) == ["ann@example.com", "bo@example.com", "cy@example.com"]
    message = BytesParser(policy=policy.default).parsebytes(arrived.raw)
    assert message["Bcc"] is None and b"bo@example.com" not in arrived.raw
    assert message["Subject"] == "hi"
    assert copies.saved == [raw]
    assert await outbox.items() == []


async def test_a_failing_command_keeps_the_message_queued_with_its_error_line(
    store: Store, tmp_path: Path
) -> None:
    failing = script(
        tmp_path, "sendmail", "echo 'sendmail: \\033[31mrelay refused\\033[0m' >&2\nexit 75\n"
    )
    copies = Copies()
    outbox = Outbox(store, {"home": account(str(failing))}, sent_sink=copies)
    await queue_with_bcc(outbox)

    report = await outbox.flush()

    [delivery] = report.deliveries
    assert delivery.outcome == "retry"
    assert delivery.error == f"{failing} failed with exit status 75: sendmail: relay refused"
    [item] = await outbox.items()
    assert item.status == oq.QUEUED and item.last_error == delivery.error
    assert copies.saved == []


async def test_a_sendmail_script_gets_the_message_on_stdin_and_the_envelope_after_dashes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen"
    stand_in = script(
        tmp_path,
        "sendmail",
        'python3 -c \'import json,sys; print(json.dumps(sys.argv[1:]))\' "$@" > "$SEEN.args"\n'
        'cat > "$SEEN.mail"\n',
    )
    monkeypatch.setenv("SEEN", str(seen))
    outbox = Outbox(
        store, {"home": account(f"{shlex.quote(str(stand_in))} -oi -t")}, sent_sink=Copies()
    )
    raw = await queue_with_bcc(outbox)
    report = await outbox.flush()

    assert [d.outcome for d in report.deliveries] == ["sent"]
    args = json.loads(Path(f"{seen}.args").read_text())
    assert args == ["-oi", "--", "ann@example.com", "cy@example.com", "bo@example.com"]
    mail = Path(f"{seen}.mail").read_bytes()
    assert mail == raw.replace(b"\r\n", b"\n") and b"\r" not in mail
    assert b"Bcc" not in mail


async def test_a_command_that_hangs_is_killed_and_the_message_stays_queued(
    store: Store, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    hanging = script(tmp_path, "sendmail", f"sleep 60 &\necho $! > {pid_file}\nwait\n")
    outbox = Outbox(store, {"home": account(str(hanging))}, sent_sink=Copies(), program_timeout=1.0)
    await queue_with_bcc(outbox)

    report = await outbox.flush()

    [delivery] = report.deliveries
    assert delivery.outcome == "retry"
    assert delivery.error == f"{hanging} did not finish within 1 s"
    [item] = await outbox.items()
    assert item.status == oq.QUEUED
    assert not running(int(pid_file.read_text()))  # the child it started went with it


def running(pid: int) -> bool:
    """Whether ``pid`` is alive (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
