"""A private Dovecot for the test suite: own config, loopback, free ports, trustme certificates.

It runs from a temporary directory, serves IMAP, IMAPS, POP3 and POP3S on 127.0.0.1, keeps users
in a passwd-file (re-read by Dovecot whenever it changes, so tests add users without a restart)
and is stopped by its own master pid. Mail is written straight into Maildir, which is how the
seeded mailboxes of 100k messages take seconds rather than minutes of APPEND.

Two variants, one session-scoped fixture each (tests/harness/fixtures.py):
- ``dovecot``: Dovecot 2.3 as installed, with Drafts, Sent, Trash, Junk and Archive marked by
  RFC 6154 special-use flags and all its extensions (CONDSTORE, QRESYNC, ESEARCH, SPECIAL-USE...).
- ``plain_dovecot``: an older or plainer server. The same five folders exist (auto-created and
  subscribed) but carry no special-use flag, and the capability list leaves out CONDSTORE,
  QRESYNC, ESEARCH and SPECIAL-USE (``imap_capability``), so a client must find folder roles by
  name and sync without mod-sequences. Dovecot would still honour an ENABLE QRESYNC it does not
  advertise; our client only enables what is advertised (tests/harness/test_dovecot_fixture.py).
"""

from __future__ import annotations

import email
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import trustme

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
# Users are written before Dovecot starts: it re-reads its passwd-file at most once a second,
# so a user added on the fly could be refused for up to a second.
POOL_SIZE = 400

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = tuimail-test-{tag}
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login apop
auth_failure_delay = 0
first_valid_uid = 1
{capability}{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins
protocol imap {{
  mail_max_userip_connections = 100
}}
pop3_uidl_format = %08Xu%08Xv
{namespace}service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
"""

# The folders every test user has; the default server marks them with RFC 6154 special-use.
SPECIAL_USE_NAMESPACE = """\
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
"""

# The plain server: the same folders with no special-use flag, as on servers and old accounts
# that predate RFC 6154.
PLAIN_NAMESPACE = """\
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    auto = subscribe
  }
  mailbox Sent {
    auto = subscribe
  }
  mailbox Trash {
    auto = subscribe
  }
  mailbox Junk {
    auto = subscribe
  }
  mailbox Archive {
    auto = subscribe
  }
}
"""

# Dovecot 2.3's own post-login list without CONDSTORE, QRESYNC, ESEARCH and SPECIAL-USE (and the
# extensions that build on them: ESORT, CONTEXT=SEARCH, NOTIFY). imap-login shows this list
# before login too, which is allowed: a client reads the list again after login.
PLAIN_CAPABILITY = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 SEARCHRES WITHIN LIST-STATUS BINARY MOVE "
    "SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+"
)


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # polling a port that has no event to wait on


@dataclass
class MailUser:
    """A Dovecot user with its password and Maildir."""

    name: str
    password: str
    home: Path

    @property
    def maildir(self) -> Path:
        return self.home / "Maildir"

    def message_ids_in_inbox(self) -> set[str]:
        """Message-IDs in the INBOX Maildir, read while Dovecot may still be renaming files.

        A session whose client was killed can still be moving files from new/ to cur/ (or
        renaming them for flags): new/ is listed before cur/ so a move between them is never
        missed, a file renamed while being read starts the listing over, and the answer is the
        one two listings in a row agree on.
        """
        previous: set[str] | None = None
        while True:
            try:
                ids = {
                    str(email.message_from_bytes(path.read_bytes())["Message-ID"])
                    for sub in ("new", "cur")
                    for path in (self.maildir / sub).iterdir()
                }
            except FileNotFoundError:
                continue
            if ids == previous:
                return ids
            previous = ids


@dataclass
class Dovecot:
    """A running private Dovecot."""

    root: Path
    ca: trustme.CA
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    uid: int
    gid: int
    host: str = "127.0.0.1"
    users: dict[str, MailUser] = field(default_factory=dict)
    _counter: int = 0
    _pool: list[MailUser] = field(default_factory=list)
    _all: list[MailUser] = field(default_factory=list)

    @property
    def ca_file(self) -> Path:
        return self.root / "ca.pem"

    @property
    def log(self) -> str:
        return (self.root / "dovecot.log").read_text(errors="replace")

    def add_user(self) -> MailUser:
        """A fresh user with an empty INBOX, taken from the pool written before start."""
        if not self._pool:
            self._grow_pool(POOL_SIZE)
            # Dovecot re-reads the passwd-file at most once a second; wait until it can.
            time.sleep(1.1)
        user = self._pool.pop(0)
        (user.home / "Maildir").mkdir(parents=True, exist_ok=True)
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
        lines = [
            f"{u.name}:{{PLAIN}}{u.password}:{self.uid}:{self.gid}::{u.home}::" for u in self._all
        ]
        tmp = self.root / "passwd.tmp"
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self.root / "passwd")

    def deliver(
        self, user: MailUser, messages: Iterable[bytes], folder: str = "INBOX", seen: bool = False
    ) -> int:
        """Write messages into a Maildir folder (new/, or cur/ with \\Seen); returns the count."""
        base = user.maildir if folder == "INBOX" else user.maildir / f".{folder.replace('/', '.')}"
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
            target = base / ("cur" if seen else "new") / name
            target.write_bytes(raw.replace(b"\r\n", b"\n"))
            count += 1
        self.fix_owner(base)
        return count

    def fix_owner(self, path: Path) -> None:
        """Give the mail tree to the user Dovecot runs mail processes as."""
        if os.geteuid() != 0:
            return
        for dirpath, _dirnames, filenames in os.walk(path):
            os.chown(dirpath, self.uid, self.gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid)
        os.chown(path, self.uid, self.gid)

    def stop(self) -> None:
        """Stop the master by its own pid and wait until it is gone."""
        pid_file = self.root / "run" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)  # no event tells us another process has exited
        os.kill(pid, signal.SIGKILL)


def _mail_uid_gid() -> tuple[int, int]:
    # Dovecot refuses uid 0 for mail processes, so as root the mail belongs to `nobody`.
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def _users_config() -> str:
    if os.geteuid() == 0:
        return "default_login_user = dovenull\ndefault_internal_user = dovecot"
    user = pwd.getpwuid(os.geteuid()).pw_name
    return (
        f"default_login_user = {user}\ndefault_internal_user = {user}\n"
        f"service auth {{\n  user = {user}\n}}\nservice auth-worker {{\n  user = {user}\n}}"
    )


def start_dovecot(attempts: int = 3, plain: bool = False) -> Dovecot:
    """Start a private Dovecot (retrying if a chosen port was taken meanwhile).

    ``plain`` starts the variant without SPECIAL-USE, CONDSTORE, QRESYNC and ESEARCH.
    """
    if not os.path.exists(DOVECOT):
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")
    last_error: Exception | None = None
    for _ in range(attempts):
        root = Path(tempfile.mkdtemp(prefix="tuimail-dovecot-"))
        os.chmod(root, 0o755)  # mail processes run as another user and must reach home/
        ca = trustme.CA()
        cert = ca.issue_cert("localhost", "127.0.0.1")
        cert.private_key_pem.write_to_path(root / "server.key")
        cert.cert_chain_pems[0].write_to_path(root / "server.pem")
        ca.cert_pem.write_to_path(root / "ca.pem")
        for sub in ("run", "state", "home"):
            (root / sub).mkdir()
        os.chmod(root / "home", 0o755)
        uid, gid = _mail_uid_gid()
        ports = [free_port() for _ in range(4)]
        (root / "dovecot.conf").write_text(
            CONFIG.format(
                root=root,
                tag=root.name,
                users=_users_config(),
                namespace=PLAIN_NAMESPACE if plain else SPECIAL_USE_NAMESPACE,
                capability=f"imap_capability = {PLAIN_CAPABILITY}\n" if plain else "",
                imap=ports[0],
                imaps=ports[1],
                pop3=ports[2],
                pop3s=ports[3],
            )
        )
        server = Dovecot(root, ca, ports[0], ports[1], ports[2], ports[3], uid=uid, gid=gid)
        server._grow_pool(POOL_SIZE)
        # The daemon keeps inherited pipes open, so its errors go to a file, not to a pipe.
        with open(root / "start.err", "w+") as errors:
            proc = subprocess.run(
                [DOVECOT, "-c", str(root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            errors.seek(0)
            start_errors = errors.read().strip()
        try:
            if proc.returncode != 0:
                raise RuntimeError(f"dovecot failed to start: {start_errors}")
            deadline = time.monotonic() + 15
            for port in ports:
                _wait_listening(port, deadline)
            return server
        except (OSError, RuntimeError) as exc:
            last_error = exc
            server.stop()
            shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"could not start dovecot: {last_error}")
