"""``tuimail import``: into an IMAP folder on the private Dovecot and into a POP3 account's local
folder; flags and dates kept, resumable after kill -9, a round trip byte for byte."""

from __future__ import annotations

import imaplib
import mailbox
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.harness.accounts import imap_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.test_cli import fill
from tuimail.cli import main
from tuimail.demo.mailbox import generate
from tuimail.sync import imap_sync

POP3_HOME = {"email": "a@example.org", "pop3": {"host": "127.0.0.1", "security": "none"}}


def server(dovecot: Dovecot, user: MailUser) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    imap = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    imap.login(user.name, user.password)
    return imap


def flags_and_dates(dovecot: Dovecot, user: MailUser, folder: str) -> list[tuple[set[str], str]]:
    """(flags but \\Recent, INTERNALDATE) of every message of ``folder`` on the server."""
    with server(dovecot, user) as imap:
        imap.select(folder, readonly=True)
        status, data = imap.fetch("1:*", "(FLAGS INTERNALDATE)")
        assert status == "OK"
    found = []
    for line in data:
        assert isinstance(line, bytes)
        parsed = re.search(rb'FLAGS \(([^)]*)\) INTERNALDATE "([^"]+)"', line)
        assert parsed is not None, line
        flags = set(parsed.group(1).decode().split()) - {"\\Recent"}
        found.append((flags, parsed.group(2).decode()))
    return found


def message_ids(dovecot: Dovecot, user: MailUser, folder: str) -> list[str]:
    with server(dovecot, user) as imap:
        imap.select(folder, readonly=True)
        _status, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        if data == [None]:
            return []
        return [
            part[1].decode().split(":", 1)[1].strip() for part in data if isinstance(part, tuple)
        ]


def invoke(config: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_import_into_imap_keeps_maildir_and_mbox_flags_and_dates_on_the_server(
    tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    config = write_config(tmp_path / "c.toml", work=imap_table(dovecot, mail_user))
    raws = [m.raw for m in generate(4, seed=5, malformed_every=0)]
    box = mailbox.Maildir(tmp_path / "md")
    for raw, flags, stamp in [(raws[0], "FS", 1_500_000_000), (raws[1], "RS", 1_600_000_000)]:
        entry = mailbox.MaildirMessage(raw)
        entry.set_flags(flags)
        entry.set_subdir("cur")
        entry.set_date(stamp)
        box.add(entry)
    result = invoke(config, "import", str(tmp_path / "md"), "work/Old")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["imported 2 messages into work/Old"]
    assert flags_and_dates(dovecot, mail_user, "Old") == [
        ({"\\Flagged", "\\Seen"}, "14-Jul-2017 02:40:00 +0000"),
        ({"\\Answered", "\\Seen"}, "13-Sep-2020 12:26:40 +0000"),
    ]

    mbox = mailbox.mbox(tmp_path / "x.mbox")
    for raw, flags in [(raws[2], "RA"), (raws[3], "O")]:
        mentry = mailbox.mboxMessage(raw)
        mentry.set_flags(flags)
        mentry.set_from("x@example.org", (2019, 5, 4, 3, 2, 1, 0, 0, 0))
        mbox.add(mentry)
    mbox.close()
    result = invoke(config, "import", str(tmp_path / "x.mbox"), "work/Old")
    assert result.exit_code == 0, result.output
    assert flags_and_dates(dovecot, mail_user, "Old")[2:] == [
        ({"\\Answered", "\\Seen"}, "04-May-2019 03:02:01 +0000"),
        (set(), "04-May-2019 03:02:01 +0000"),
    ]
    # The folder is synced into the store: the interface (and list) shows it.
    listed = invoke(config, "list", "work/Old")
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 4


def test_import_into_a_pop3_local_folder_stores_messages_with_their_flags(
    tmp_path: Path, data_dir: Path
) -> None:
    config = write_config(tmp_path / "c.toml", home=POP3_HOME)
    box = tmp_path / "rd.mbox"
    box.write_bytes(
        b"From a@example.org Tue Dec  8 02:46:11 2026\nStatus: RO\nX-Status: F\n"
        b"From: a@example.org\nSubject: one\nMessage-ID: <one@x>\n\n>From here\n\n"
        b"From b@example.org Wed Dec  9 10:00:00 2026\n"
        b"From: b@example.org\nSubject: two\nMessage-ID: <two@x>\n\nlast\n"
    )
    result = invoke(config, "import", str(box), "home/Archive")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["imported 2 messages into home/Archive"]
    listed = invoke(config, "list", "home/Archive")
    lines = listed.output.splitlines()
    assert len(lines) == 2
    assert any("one" in line and "-!" in line.split()[1] for line in lines)  # seen, flagged
    assert any("two" in line and line.split()[1].startswith("N") for line in lines)
    number = next(line.split()[0] for line in lines if "one" in line)
    read = invoke(config, "read", "home/Archive", number)
    assert "From here" in read.output and ">From here" not in read.output


def test_export_then_import_then_export_is_byte_identical(tmp_path: Path, data_dir: Path) -> None:
    fill(data_dir, 30)
    config = write_config(tmp_path / "c.toml", home=POP3_HOME)
    assert invoke(config, "export", "home/INBOX", str(tmp_path / "a.mbox")).exit_code == 0
    result = invoke(config, "import", str(tmp_path / "a.mbox"), "home/Copy")
    assert result.exit_code == 0, result.output
    assert invoke(config, "export", "home/Copy", str(tmp_path / "b.mbox")).exit_code == 0
    first = (tmp_path / "a.mbox").read_bytes()
    assert first.count(b"\nFrom ") == 29
    assert (tmp_path / "b.mbox").read_bytes() == first


def test_a_second_import_of_the_same_file_adds_nothing(tmp_path: Path, data_dir: Path) -> None:
    config = write_config(tmp_path / "c.toml", home=POP3_HOME)
    box = mailbox.mbox(tmp_path / "x.mbox")
    for message in generate(5, seed=9, malformed_every=0):
        box.add(message.raw)
    box.close()
    assert invoke(config, "import", str(tmp_path / "x.mbox"), "home/Old").exit_code == 0
    again = invoke(config, "import", str(tmp_path / "x.mbox"), "home/Old")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "imported 0 messages into home/Old",
        "skipped 5 messages: already in the folder",
    ]
    assert len(invoke(config, "list", "home/Old").output.splitlines()) == 5


def test_a_malformed_file_gives_a_summary_line_and_status_1_not_a_traceback(
    tmp_path: Path, data_dir: Path
) -> None:
    config = write_config(tmp_path / "c.toml", home=POP3_HOME)
    junk = tmp_path / "junk.mbox"
    junk.write_bytes(b"\x00\x01 this is not mail\n\xff\xfe\n")
    result = invoke(config, "import", str(junk), "home/Junk")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout.splitlines() == [
        "imported 0 messages into home/Junk",
        "skipped 1 message: not a message (first: junk.mbox message 1)",
    ]


@pytest.mark.timeout(180)
def test_import_killed_mid_way_then_run_again_stores_every_message_exactly_once(
    tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    config = write_config(tmp_path / "c.toml", work=imap_table(dovecot, mail_user))
    box_path = tmp_path / "big.mbox"
    box = mailbox.mbox(box_path)
    expected = set()
    for message in generate(600, seed=11, malformed_every=0):
        box.add(message.raw)
        expected.add(message.message_id)
    box.close()
    log = data_dir / "tuimail.log"
    env = {**os.environ, "TUIMAIL_DATA_DIR": str(data_dir), "TUIMAIL_CONFIG": str(config)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tuimail",
            "--debug",
            "import",
            str(tmp_path / "big.mbox"),
            "work/Big",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The second MULTIAPPEND starts once the first is stored: kill in the middle.
        while not log.exists() or log.read_text().count("APPEND (100 messages") < 2:
            assert child.poll() is None, "the import ended before it could be killed"
            time.sleep(0.005)  # a file another process writes has no event to wait on
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    # Dovecot finishes (or drops) an APPEND it was reading when it sees the connection close;
    # its log line says the session is over, and with it any change to the folder.
    ended = f"imap({mail_user.name})"
    while not any(
        ended in line and "Disconnected: Connection closed" in line
        for line in dovecot.log.splitlines()
    ):
        time.sleep(0.005)
    stored_at_kill = message_ids(dovecot, mail_user, "Big")
    assert 100 <= len(stored_at_kill) < 600
    again = invoke(config, "import", str(tmp_path / "big.mbox"), "work/Big")
    assert again.exit_code == 0, again.output
    ids = message_ids(dovecot, mail_user, "Big")
    assert len(ids) == 600 and set(ids) == expected
    assert f"skipped {len(stored_at_kill)} messages: already in the folder" in again.output


def test_a_maildir_plus_plus_tree_lands_in_matching_subfolders_on_the_server(
    tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    config = write_config(tmp_path / "c.toml", work=imap_table(dovecot, mail_user))
    raws = [m.raw for m in generate(3, seed=7, malformed_every=0)]
    root = mailbox.Maildir(tmp_path / "Mail")
    root.add(raws[0])
    lists = root.add_folder("Lists.python")
    lists.add(raws[1])
    lists.add(raws[2])
    result = invoke(config, "import", str(tmp_path / "Mail"), "work/Old")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 3 messages into work/Old, work/Old/Lists/python"
    ]
    assert len(message_ids(dovecot, mail_user, "Old")) == 1
    assert len(message_ids(dovecot, mail_user, "Old/Lists/python")) == 2
    listed = invoke(config, "list", "work/Old/Lists/python")
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 2


def test_an_imap_round_trip_export_import_export_is_byte_identical(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Several header FETCHes (as 2,500 a FETCH does for a large folder): the sync stores the
    # newest batch first, so the store's order is not the folder's.
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", 10)
    # offline = "full" keeps every body in the store, which export needs.
    dovecot.deliver(mail_user, [m.raw for m in generate(40, seed=12, malformed_every=0)])
    config = write_config(
        tmp_path / "c.toml", work={**imap_table(dovecot, mail_user), "offline": "full"}
    )
    assert invoke(config, "sync").exit_code == 0
    assert invoke(config, "export", "work/INBOX", str(tmp_path / "a.mbox")).exit_code == 0
    result = invoke(config, "import", str(tmp_path / "a.mbox"), "work/Copy")
    assert result.exit_code == 0, result.output
    assert invoke(config, "sync").exit_code == 0
    assert invoke(config, "export", "work/Copy", str(tmp_path / "b.mbox")).exit_code == 0
    first = (tmp_path / "a.mbox").read_bytes()
    assert first.count(b"\nFrom ") == 39
    assert (tmp_path / "b.mbox").read_bytes() == first
