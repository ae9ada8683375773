"""A private Courier-IMAP for the test suite: a second server, without CONDSTORE, QRESYNC,
ESEARCH or SPECIAL-USE, with "." as the delimiter and every folder under INBOX.

Debian's courier-imap conflicts with dovecot-imapd, so its files are extracted (`dpkg-deb -x`)
into ``.courier/`` of the checkout (or $TUIMAIL_COURIER_ROOT) while courier-base (couriertcpd)
and courier-authdaemon come from their packages. authdaemond's socket and its config
(/run/courier, /etc/courier) are compiled in, so the server runs in a mount namespace of its
own (`unshare --mount`, which needs root) where a temporary directory is bound over both:
the machine's own Courier files, and the suite's Dovecot, are never touched. Users live in a
private userdb; mail is written straight into Maildir, as tests/harness/dovecot.py does.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.dovecot import MailUser, _wait_listening, free_port

CHECKOUT = Path(__file__).parents[2]
EXTRACTED = Path(os.environ.get("TUIMAIL_COURIER_ROOT", CHECKOUT / ".courier"))
IMAPD = EXTRACTED / "usr/bin/imapd"
IMAPLOGIN = EXTRACTED / "usr/lib/courier/courier/imaplogin"
COURIERTCPD = Path("/usr/sbin/couriertcpd")
AUTHDAEMOND = Path("/usr/lib/courier/courier-authlib/authdaemond")
MAKEUSERDB = Path("/usr/sbin/makeuserdb")
POOL_SIZE = 50

# Debian's /etc/courier/imapd, less AUTH=CRAM-*: what a stock Courier offers after login.
CAPABILITY = (
    "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
)

# Runs inside `unshare --mount --propagation private`: the bind mounts end with its processes.
LAUNCH = """\
set -e
mount --bind "$ROOT/etc" /etc/courier
mount --bind "$ROOT/run" /run
"$AUTHDAEMOND" >>"$ROOT/authdaemond.log" 2>&1 &
exec "$COURIERTCPD" -address=127.0.0.1 -nodnslookup -noidentlookup -maxprocs=200 \
    -maxperip=200 "$PORT" "$IMAPLOGIN" "$IMAPD" Maildir
"""

AUTHDAEMONRC = """\
authmodulelist="authuserdb"
daemons=3
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
"""


def missing() -> str | None:
    """What keeps a private Courier from starting here, or None."""
    if os.geteuid() != 0:
        return "root (for a private mount namespace)"
    for path in (IMAPD, IMAPLOGIN):
        if not path.exists():
            return f"courier-imap extracted in {EXTRACTED} (see the README's test command)"
    for path in (COURIERTCPD, AUTHDAEMOND, MAKEUSERDB):
        if not path.exists():
            return f"{path} (apt-get install courier-base courier-authdaemon)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux)"
    return None


@dataclass
class Courier:
    """A running private Courier-IMAP, plain IMAP on loopback."""

    root: Path
    imap_port: int
    uid: int
    gid: int
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"
    delimiter: str = "."
    users: dict[str, MailUser] = field(default_factory=dict)
    _pool: list[MailUser] = field(default_factory=list)
    _all: list[MailUser] = field(default_factory=list)
    _counter: int = 0

    @property
    def log(self) -> str:
        return "".join(
            (self.root / name).read_text(errors="replace")
            for name in ("authdaemond.log", "courier.log")
            if (self.root / name).exists()
        )

    def add_user(self) -> MailUser:
        """A fresh user with an empty INBOX (the pool grows, and userdb with it, when empty)."""
        if not self._pool:
            self._grow_pool(POOL_SIZE)
        user = self._pool.pop(0)
        for sub in ("cur", "new", "tmp"):
            (user.maildir / sub).mkdir(parents=True, exist_ok=True)
        self.fix_owner(user.home)
        self.users[user.name] = user
        return user

    def _grow_pool(self, count: int) -> None:
        for _ in range(count):
            self._counter += 1
            name = f"user{self._counter}"
            password = f"pw-{name}-{os.urandom(6).hex()}"
            self._pool.append(MailUser(name, password, self.root / "home" / name))
            self._all.append(self._pool[-1])
        lines = []
        for user in self._all:
            digest = base64.b64encode(hashlib.sha1(user.password.encode()).digest()).decode()
            lines.append(
                f"{user.name}\tuid={self.uid}|gid={self.gid}|home={user.home}"
                f"|mail={user.maildir}|systempw={{SHA}}{digest}"
            )
        source = self.root / "etc" / "userdb"
        source.write_text("\n".join(lines) + "\n")
        source.chmod(0o600)  # makeuserdb refuses a userdb others can read
        subprocess.run([str(MAKEUSERDB), "-f", str(source)], check=True, capture_output=True)

    def deliver(
        self, user: MailUser, messages: Iterable[bytes], folder: str = "INBOX", seen: bool = False
    ) -> int:
        """Write messages into a Maildir folder ("INBOX" or "INBOX.Name"); returns the count.

        Nothing is written to Courier's own files (courierimapuiddb), as a delivery agent
        would not: the folder then has no UID list until a client SELECTs it.
        """
        base = user.maildir
        if folder != "INBOX":
            base = base / ("." + folder.removeprefix("INBOX."))
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        if folder != "INBOX":
            (base / "maildirfolder").touch()
        count = 0
        stamp = int(time.time())
        for raw in messages:
            self._counter += 1
            unique = f"{stamp}.M{self._counter}P{os.getpid()}.tuimail-test"
            name = f"{unique}:2,S" if seen else unique
            (base / ("cur" if seen else "new") / name).write_bytes(raw.replace(b"\r\n", b"\n"))
            count += 1
        self.fix_owner(user.home)
        return count

    def fix_owner(self, path: Path) -> None:
        """Give the mail tree to the user imapd runs as."""
        for dirpath, _dirnames, filenames in os.walk(path):
            os.chown(dirpath, self.uid, self.gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid)

    def stop(self) -> None:
        """Stop couriertcpd, its sessions and authdaemond: the process group we started."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # authdaemond and imapd sessions may outlive couriertcpd by a moment.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _wait_for(path: Path, process: subprocess.Popen[bytes], deadline: float) -> None:
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} did not appear")
        time.sleep(0.02)  # a socket file appearing has no event to wait on here


def start_courier(attempts: int = 3) -> Courier:
    """Start a private Courier-IMAP (retrying if the chosen port was taken meanwhile)."""
    reason = missing()
    if reason is not None:
        raise RuntimeError(f"Courier-IMAP cannot run here: missing {reason}")
    nobody = pwd.getpwnam("nobody")  # imapd runs as the mail user, never as root
    last_error: Exception | None = None
    for _ in range(attempts):
        root = Path(tempfile.mkdtemp(prefix="tuimail-courier-"))
        os.chmod(root, 0o755)
        for sub in ("etc", "run/courier/authdaemon", "home"):
            (root / sub).mkdir(parents=True)
        (root / "etc" / "authdaemonrc").write_text(AUTHDAEMONRC)
        server = Courier(root, free_port(), nobody.pw_uid, nobody.pw_gid)
        server._grow_pool(POOL_SIZE)
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "ROOT": str(root),
            "PORT": str(server.imap_port),
            "AUTHDAEMOND": str(AUTHDAEMOND),
            "COURIERTCPD": str(COURIERTCPD),
            "IMAPLOGIN": str(IMAPLOGIN),
            "IMAPD": str(IMAPD),
            "IMAP_CAPABILITY": CAPABILITY,
            "IMAP_KEYWORDS": "1",
            "IMAP_IDLE_TIMEOUT": "60",
            "IMAP_UMASK": "022",
            "IMAP_USELOCKS": "1",
            "IMAP_MAILBOX_SANITY_CHECK": "1",
            "IMAP_TRASHFOLDERNAME": "Trash",
            "IMAP_MOVE_EXPUNGE_TO_TRASH": "0",
            "IMAP_STARTTLS": "NO",
        }
        with open(root / "courier.log", "wb") as log:
            server.process = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", LAUNCH],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # one process group to stop, ours alone
            )
        try:
            deadline = time.monotonic() + 15
            _wait_for(root / "run/courier/authdaemon/socket", server.process, deadline)
            _wait_listening(server.imap_port, deadline)
            return server
        except (OSError, RuntimeError) as exc:
            last_error = RuntimeError(f"{exc}; log: {server.log.strip()}")
            server.stop()
            shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"could not start Courier-IMAP: {last_error}")


def imap_table(courier: Courier, user: MailUser, **overrides: object) -> dict[str, object]:
    """The [accounts.NAME] table of a plain-IMAP account on the test Courier (loopback only)."""
    server: dict[str, object] = {
        "host": courier.host,
        "port": courier.imap_port,
        "security": "none",
        "username": user.name,
        "password": user.password,
        "timeout": 20.0,
    }
    server.update(overrides)
    return {"email": f"{user.name}@example.org", "imap": server}
