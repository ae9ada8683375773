"""A private Dovecot that advertises no CONDSTORE or QRESYNC, like Courier-IMAP and older servers.

The usual harness Dovecot, reconfigured with ``imap_capability`` and reloaded: the client then
never ENABLEs either extension and syncs with UID SEARCH ALL and FETCH FLAGS, as it must with
such a server. Registered as the ``plain_dovecot`` fixture; use it with ``plain_user``.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.harness.dovecot import DOVECOT, Dovecot, MailUser, start_dovecot
from tests.harness.fixtures import require

CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT THREAD=REFERENCES MULTIAPPEND "
    "UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 LITERAL+ MOVE"
)


def _advertised(server: Dovecot) -> set[str]:
    """What a logged-in session is told (the capability the client goes by)."""
    with imaplib.IMAP4(server.host, server.imap_port) as imap:
        user = server.add_user()
        imap.login(user.name, user.password)
        _status, data = imap.capability()
        return set(bytes(data[0]).decode().upper().split())


def start_plain_dovecot() -> Dovecot:
    """Start the harness Dovecot and take CONDSTORE and QRESYNC out of what it advertises."""
    server = start_dovecot()
    config = server.root / "dovecot.conf"
    config.write_text(config.read_text() + f"imap_capability = {CAPABILITIES}\n")
    subprocess.run([DOVECOT, "-c", str(config), "reload"], check=True)
    # The reload reaches new logins shortly; no event tells when, so a login asks until it does.
    deadline = time.monotonic() + 15
    while "CONDSTORE" in _advertised(server):
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("dovecot still advertises CONDSTORE after the reload")
        time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def plain_dovecot() -> Iterator[Dovecot]:
    """One Dovecot without CONDSTORE/QRESYNC for the whole run."""
    require(os.path.exists(DOVECOT) or shutil.which("dovecot") is not None, "dovecot")
    server = start_plain_dovecot()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def plain_user(plain_dovecot: Dovecot) -> MailUser:
    """A fresh user with an empty mailbox on the Dovecot without CONDSTORE/QRESYNC."""
    return plain_dovecot.add_user()
