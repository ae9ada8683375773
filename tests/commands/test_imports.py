"""Scripts call the command line often: a command loads only what it uses.

Each command runs in a fresh interpreter (as a script starts it) and reports the packages it
loaded; the ORM, the interface and the config models (pydantic) are the costly ones to leave out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.harness.accounts import imap_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.test_cli import fill
from tuimail.demo.mailbox import generate

# Runs tuimail's entry point as the console script does, then lists the top-level packages.
PROBE = """
import json, sys
from tuimail.cli import main
try:
    main(sys.argv[2:], prog_name="tuimail")
except SystemExit as exc:
    status = exc.code
with open(sys.argv[1], "w") as out:
    json.dump({"status": status, "modules": sorted(sys.modules)}, out)
"""
HEAVY_FOR_READS = {
    "sqlalchemy",
    "aiosqlite",
    "alembic",
    "textual",
    "tuimail.store.db",
    "pydantic",
    "tuimail.config",
}


def run_tuimail(tmp_path: Path, *arguments: str) -> tuple[int, str, set[str]]:
    """Exit status, stdout and the modules loaded of one ``tuimail ARGUMENTS`` process."""
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert report.exists(), done.stderr
    found = json.loads(report.read_text())
    return found["status"], done.stdout, set(found["modules"])


def test_list_json_answers_without_loading_the_orm_or_the_interface(
    tmp_path: Path, data_dir: Path
) -> None:
    fill(data_dir, 3)
    status, output, modules = run_tuimail(tmp_path, "list", "home/INBOX", "--limit", "50", "--json")
    assert status == 0, output
    assert len(output.splitlines()) == 3
    assert modules & HEAVY_FOR_READS == set()


def test_read_of_a_stored_message_answers_without_loading_the_orm(
    tmp_path: Path, data_dir: Path
) -> None:
    fill(data_dir, 3)
    status, output, modules = run_tuimail(tmp_path, "read", "home/INBOX", "1")
    assert status == 0, output
    assert "Subject:" in output
    assert modules & (HEAVY_FOR_READS | {"tuimail.protocols.imap"}) == set()


def test_version_loads_neither_the_config_models_nor_the_store(tmp_path: Path) -> None:
    status, output, modules = run_tuimail(tmp_path, "--version")
    assert status == 0
    assert output.startswith("tuimail, version ")
    assert modules & {"pydantic", "sqlite3", "asyncio", "tuimail.config", "sqlalchemy"} == set()


def test_list_of_a_config_with_warnings_warns_once_without_the_config_models(
    tmp_path: Path, data_dir: Path
) -> None:
    config = data_dir.parent / "config.toml"
    config.write_text(
        '[accounts.home]\nemail = "a@example.org"\n[accounts.home.pop3]\n'
        'host = "127.0.0.1"\npassword = "secret"\ntls_verify = false\n'
    )
    config.chmod(0o600)
    fill(data_dir, 2)
    done = subprocess.run(
        [sys.executable, "-m", "tuimail", "list", "home/INBOX"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "tuimail: warning: accounts.home.pop3: tls_verify = false: the server's identity is "
        "not checked",
        "tuimail: warning: accounts.home.pop3: password is stored in clear text in the config file",
    ]
    status, _, modules = run_tuimail(tmp_path, "list", "home/INBOX")
    assert status == 0
    assert modules & {"pydantic", "tuimail.config"} == set()


def test_read_that_fetches_the_body_connects_without_the_config_models(
    tmp_path: Path, data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(3, seed=8, malformed_every=0)])
    config = write_config(tmp_path / "config.toml", work=imap_table(dovecot, mail_user))
    status, output, _ = run_tuimail(tmp_path, "--config", str(config), "sync")
    assert status == 0, output
    status, output, modules = run_tuimail(
        tmp_path, "--config", str(config), "read", "work/INBOX", "3"
    )
    assert status == 0
    assert "Subject:" in output
    assert modules & {"pydantic", "tuimail.config"} == set()
