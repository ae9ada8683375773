"""neomutt, the peer: open INBOX over IMAPS, draw the index, quit.

neomutt runs as a whole process on a 160x48 pty (``TERM=xterm-256color``) with a muttrc of our
own (``-n -F``: no system or user config, ``HOME`` a scratch directory):

    set folder="imaps://bench@127.0.0.1:PORT"   imap_user/imap_pass bench
    set ssl_ca_certificates_file=BASE/etc/ssl/cert.pem   (Debian's neomutt uses GnuTLS)
    set header_cache=DIR/   (empty for a cold open; kept from the cold open for a warm one)

and ``neomutt -n -F muttrc -f imaps://.../INBOX -e 'push <quit>'``: neomutt logs in, selects
INBOX, fetches the headers it lacks (all of them when cold), sorts, draws the index, then reads
the pushed ``q`` and exits (``quit=yes``). The time is from spawn to exit; the pty's output
must show the index status line (``Msgs:``), or the run counts as failed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench.real_mailbox import Mailbox
from bench.real_process import Finished, run

TERMINAL = (160, 48)


def installed() -> bool:
    return shutil.which("neomutt") is not None


def _muttrc(mailbox: Mailbox, home: Path) -> Path:
    cache = home / "hcache"
    cache.mkdir(exist_ok=True)
    lines = [
        f'set folder="imaps://bench@127.0.0.1:{mailbox.imaps_port}"',
        'set spool_file="+INBOX"',
        "set imap_user=bench",
        "set imap_pass=bench",
        f'set ssl_ca_certificates_file="{mailbox.ca_file}"',
        f'set certificate_file="{home / "certificates"}"',
        f'set header_cache="{cache}/"',
        "set imap_check_subscribed=no",
        "set sleep_time=0",  # no pause after "Mailbox is unchanged" on the way out
        'set record=""',
        f'set postponed="{home / "postponed"}"',
    ]
    path = home / "muttrc"
    path.write_text("\n".join(lines) + "\n")
    return path


def open_inbox(mailbox: Mailbox, home: Path, *, cold: bool) -> Finished:
    """One neomutt process: open INBOX, draw the index, quit."""
    home.mkdir(parents=True, exist_ok=True)
    if cold:
        shutil.rmtree(home / "hcache", ignore_errors=True)
    muttrc = _muttrc(mailbox, home)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "TMPDIR": str(home),
    }
    argv = ["neomutt", "-n", "-F", str(muttrc)]
    argv += ["-f", f"imaps://bench@127.0.0.1:{mailbox.imaps_port}/INBOX", "-e", "push <quit>"]
    finished = run(argv, env=env, terminal=TERMINAL, timeout=600)
    if finished.returncode or "Msgs:" not in finished.stdout:
        raise SystemExit(
            f"neomutt did not open INBOX (exit {finished.returncode}); its screen ended with:\n"
            f"{finished.stdout[-2000:]!r}"
        )
    return finished
