"""Passwords and tokens leave no trace: a real run of the command line with debug logging (syncs
against Dovecot with passwords from password_command, a refused login, sends through aiosmtpd
with AUTH PLAIN and XOAUTH2) and a screenshot of the interface, then every file the run made
and everything it printed is searched for each secret in every encoding it crossed the wire in.
The same run's files must be private: 0600 files in 0700 directories.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from tests.harness.accounts import config, imap_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tests.reliability.secret_forms import encodings
from tests.ui.pilot import settle
from tuimail.cli import main
from tuimail.config import load_config
from tuimail.demo.mailbox import generate
from tuimail.errors import AuthError
from tuimail.store.db import Store, open_store
from tuimail.sync.imap_sync import sync_imap_account
from tuimail.ui.app import TuimailApp

pytestmark = pytest.mark.timeout(60)

WRONG_PASSWORD = "wrong-Zq8v-never-accepted"


@dataclass
class Run:
    """A home directory for tuimail and the secrets its config points at (kept outside it)."""

    home: Path
    data: Path
    config: Path
    printed: list[str]

    def invoke(self, *args: str, stdin: str | None = None) -> Result:
        result = CliRunner().invoke(main, ["--debug", *args], input=stdin)
        self.printed += [result.stdout, result.stderr]
        return result

    def files(self) -> Iterator[Path]:
        for directory, _subdirs, names in os.walk(self.home):
            for name in names:
                yield Path(directory) / name


@pytest.fixture
def run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> Iterator[Run]:
    home = tmp_path / "home"
    for name, value in {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local/share",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_STATE_HOME": home / ".local/state",
        "TUIMAIL_DATA_DIR": home / ".local/share/tuimail",
        "TUIMAIL_CONFIG": home / ".config/tuimail/config.toml",
    }.items():
        monkeypatch.setenv(name, str(value))
    secrets = tmp_path / "secrets"  # where `pass` would keep them: not tuimail's files
    secrets.mkdir()
    commands = {}
    for name, secret in {
        "imap": mail_user.password,
        "wrong": WRONG_PASSWORD,
        "smtp": smtp_server.password,
        "token": smtp_server.oauth2_token,
    }.items():
        (secrets / name).write_text(secret + "\n")
        commands[name] = f"cat {secrets / name}"
    smtp: dict[str, Any] = {
        "host": smtp_server.host,
        "port": smtp_server.port,
        "security": "starttls",
        "username": smtp_server.username,
        "tls_ca_file": str(smtp_server.ca_file),
        "timeout": 10.0,
    }
    dovecot.deliver(mail_user, [m.raw for m in generate(8, seed=6, malformed_every=0)])

    def imap(command: str) -> dict[str, Any]:
        table = imap_table(dovecot, mail_user)
        del table["imap"]["password"]
        table["imap"]["password_command"] = command
        return table

    path = home / ".config/tuimail/config.toml"
    path.parent.mkdir(parents=True, mode=0o700)
    write_config(
        path,
        work={**imap(commands["imap"]), "smtp": {**smtp, "password_command": commands["smtp"]}},
        broken=imap(commands["wrong"]),
        oauth={
            **imap(commands["imap"]),
            "smtp": {**smtp, "oauth2_token_command": commands["token"]},
        },
    )
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield Run(home, home / ".local/share/tuimail", path, [])
    for handler in [h for h in root.handlers if h not in handlers]:  # the CLI's log file
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


async def screenshot(run: Run) -> str:
    app = TuimailApp(load_config(run.config), start_sync=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        return app.save_screenshot("screen.svg", path=str(run.home))


def test_no_secret_reaches_any_file_or_output_of_a_real_debug_run(
    run: Run, mail_user: MailUser, smtp_server: SmtpTestServer
) -> None:
    assert run.invoke("sync", "work").exit_code == 0, run.printed
    failed = run.invoke("sync", "broken")
    assert failed.exit_code == 1 and failed.stderr.count("\n") == 1
    assert "refused the login" in failed.stderr
    for name in ("work", "oauth"):
        args = ("send", "--account", name, "--to", "ann@example.com", "--subject", name)
        sent = run.invoke(*args, stdin="Hello.\n")
        assert sent.exit_code == 0, run.printed
    asyncio.run(screenshot(run))
    assert [(login.mechanism, login.success) for login in smtp_server.logins] == [
        ("PLAIN", True),
        ("XOAUTH2", True),
    ]
    log = (run.data / "tuimail.log").read_text()
    assert " DEBUG tuimail.protocols.imap: C: " in log, "the run was not logged at debug level"

    secrets = {
        "IMAP password": encodings(mail_user.password, mail_user.name),
        "wrong password": encodings(WRONG_PASSWORD, mail_user.name),
        "SMTP password": encodings(smtp_server.password, smtp_server.username),
        "OAuth2 token": encodings(smtp_server.oauth2_token),
    }
    searched = {str(path): path.read_bytes() for path in run.files()}
    assert {"screen.svg", "tuimail.log", "mail.sqlite3", "config.toml"} <= {
        Path(p).name for p in searched
    }
    searched["printed"] = "".join(run.printed).encode()
    for what, forms in secrets.items():
        for where, content in searched.items():
            assert not any(form in content for form in forms), f"{what} found in {where}"


async def modes_while_open(data: Path) -> dict[str, int]:
    """The mode of every file in the data directory while a store is open (WAL, SHM, lock)."""
    store = await open_store(data / "mail.sqlite3")
    try:
        async with store.session() as session:
            await session.execute(text("UPDATE folders SET subscribed = subscribed"))
        return {path.name: stat.S_IMODE(path.stat().st_mode) for path in data.iterdir()}
    finally:
        await store.close()


def test_the_files_of_a_real_run_are_private(run: Run) -> None:
    assert run.invoke("sync", "work").exit_code == 0, run.printed
    files = asyncio.run(modes_while_open(run.data))
    expected = {"mail.sqlite3", "mail.sqlite3-wal", "mail.sqlite3-shm", "mail.sqlite3.lock"}
    assert expected | {"tuimail.log"} <= set(files)
    assert {name: oct(mode) for name, mode in files.items() if mode != 0o600} == {}
    assert stat.S_IMODE(run.data.stat().st_mode) == 0o700


def test_a_world_readable_config_with_a_password_is_warned_about(run: Run) -> None:
    text = run.config.read_text().replace(
        next(line for line in run.config.read_text().splitlines() if "cat " in line),
        'password = "plain-in-the-file"',
        1,
    )
    run.config.write_text(text)
    run.config.chmod(0o644)
    result = run.invoke("outbox")
    assert "password is stored in clear text" in result.stderr
    assert "is readable by other users: chmod 600 it" in result.stderr
    assert "plain-in-the-file" not in result.stderr


async def test_a_refused_login_carries_no_secret_in_its_message_or_traceback(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    table = imap_table(dovecot, mail_user, password=WRONG_PASSWORD)
    with pytest.raises(AuthError) as caught:
        await sync_imap_account(store, "x", config(x=table).account("x"))
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert "refused the login" in str(caught.value)
    assert not any(form.decode() in shown for form in encodings(WRONG_PASSWORD, mail_user.name))
