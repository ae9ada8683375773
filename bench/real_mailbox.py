"""The independent benchmark mailbox: a private Dovecot filled by the shared generator.

The scripts live in ``../shared/bench`` beside the repository (a copy of ``shared/`` lies beside
the checkout in CI); ``TUIMAIL_SHARED_BENCH`` names another place. Generating 100k messages takes
minutes, so a BASE remembers what it holds (``-n``, ``--seed`` and the generator's sha256) and is
filled again only when asked for something else.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAMP = "genmail.stamp"
PORT_NAMES = ("IMAP_PORT", "IMAPS_PORT", "POP3_PORT", "POP3S_PORT")
DEFAULT_PORTS = (10143, 10993, 10110, 10995)


def shared_bench() -> Path:
    """The folder holding genmail.py and mailserver.sh."""
    override = os.environ.get("TUIMAIL_SHARED_BENCH")
    folder = Path(override) if override else REPO.parent / "shared" / "bench"
    if not (folder / "genmail.py").is_file() or not (folder / "mailserver.sh").is_file():
        raise SystemExit(
            f"no genmail.py/mailserver.sh in {folder}: put a copy of shared/ beside the "
            "repository or set TUIMAIL_SHARED_BENCH"
        )
    return folder


@dataclass(frozen=True)
class Mailbox:
    """A running private Dovecot over a generated Maildir."""

    base: Path
    count: int
    seed: int
    ports: dict[str, int]
    started_here: bool

    @property
    def imaps_port(self) -> int:
        return self.ports["IMAPS_PORT"]

    @property
    def ca_file(self) -> Path:
        return self.base / "etc" / "ssl" / "cert.pem"

    @property
    def maildir(self) -> Path:
        return self.base / "mail" / "bench" / "Maildir"

    @property
    def conf(self) -> Path:
        return self.base / "etc" / "dovecot.conf"


def ports(offset: int = 0) -> dict[str, int]:
    """Ports from the environment (as mailserver.sh reads them), moved by ``offset``."""
    return {
        name: int(os.environ.get(name, default)) + offset
        for name, default in zip(PORT_NAMES, DEFAULT_PORTS, strict=True)
    }


def _server(command: str, base: Path, chosen: dict[str, int]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{name: str(port) for name, port in chosen.items()}}
    script = shared_bench() / "mailserver.sh"
    # Into a file, not a pipe: the Dovecot it starts keeps the script's stdout open for good.
    with tempfile.TemporaryFile("w+") as output:
        done = subprocess.run(
            ["bash", str(script), command, str(base)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output.seek(0)
        return subprocess.CompletedProcess(done.args, done.returncode, output.read(), "")


def bring_up(base: Path, count: int, seed: int, port_offset: int = 0) -> Mailbox:
    """Start Dovecot on ``base`` and make sure it holds ``count`` messages of ``seed``."""
    chosen = ports(port_offset)
    was_running = _server("status", base, chosen).returncode == 0
    started = _server("start", base, chosen)
    if started.returncode:
        raise SystemExit(
            f"mailserver.sh start {base} failed (ports {chosen}; a Dovecot on another BASE may "
            f"hold them: stop it, or set IMAPS_PORT etc.):\n{started.stdout}"
        )
    print(started.stdout.strip(), flush=True)
    mailbox = Mailbox(base, count, seed, chosen, started_here=not was_running)
    wanted = f"n={count} seed={seed}"
    stamp = base / STAMP
    held = stamp.read_text().split(" sha256=")[0] if stamp.is_file() else ""
    if held == wanted and (mailbox.maildir / "cur").is_dir():
        print(f"{base} already holds {stamp.read_text().strip()}", flush=True)
        return mailbox
    stamp.unlink(missing_ok=True)
    print(f"generating {count} messages (seed {seed}) into {mailbox.maildir} ...", flush=True)
    options = {"-n": count, "--seed": seed, "--maildir": mailbox.maildir, "--conf": mailbox.conf}
    generated = subprocess.run(
        [sys.executable, str(shared_bench() / "genmail.py")]
        + [str(part) for pair in options.items() for part in pair],
        capture_output=True,
        text=True,
    )
    print(generated.stdout.strip(), flush=True)
    found = re.search(r"sha256=([0-9a-f]{64})", generated.stdout)
    if generated.returncode or found is None:
        raise SystemExit(f"genmail.py failed:\n{generated.stderr[-3000:]}")
    stamp.write_text(f"{wanted} sha256={found.group(1)}\n")
    return mailbox


def shut_down(mailbox: Mailbox) -> None:
    """Stop the Dovecot if this run started it; one that was already running stays up."""
    if mailbox.started_here:
        print(_server("stop", mailbox.base, mailbox.ports).stdout.strip(), flush=True)
