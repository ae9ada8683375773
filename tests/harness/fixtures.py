"""Pytest fixtures for real servers: a private Dovecot, and the test CA's TLS context."""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Iterator

import pytest

from tests.harness import courier as courier_harness
from tests.harness.dovecot import DOVECOT, Dovecot, MailUser, start_dovecot

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, what: str) -> None:
    """Skip locally when a real component is missing; fail in CI, where a skip hides a gap."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but missing", pytrace=False)
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One private Dovecot for the whole run; tests isolate themselves with their own users."""
    require(os.path.exists(DOVECOT) or shutil.which("dovecot") is not None, "dovecot")
    server = start_dovecot()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def plain_dovecot() -> Iterator[Dovecot]:
    """A second Dovecot without SPECIAL-USE flags, CONDSTORE, QRESYNC or ESEARCH.

    Its Drafts, Sent, Trash, Junk and Archive exist but are known only by name; see
    tests/harness/dovecot.py. Add users with ``plain_dovecot.add_user()``.
    """
    require(os.path.exists(DOVECOT) or shutil.which("dovecot") is not None, "dovecot")
    server = start_dovecot(plain=True)
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def plain_user(plain_dovecot: Dovecot) -> MailUser:
    """A fresh user with an empty mailbox on the plain Dovecot."""
    return plain_dovecot.add_user()


@pytest.fixture(scope="session")
def courier() -> Iterator[courier_harness.Courier]:
    """A private Courier-IMAP: no CONDSTORE, QRESYNC, ESEARCH or SPECIAL-USE, "." delimiter."""
    reason = courier_harness.missing()
    require(reason is None, f"Courier-IMAP ({reason})")
    server = courier_harness.start_courier()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def courier_user(courier: courier_harness.Courier) -> MailUser:
    """A fresh user with an empty mailbox on the private Courier."""
    return courier.add_user()


@pytest.fixture
def mail_user(dovecot: Dovecot) -> MailUser:
    """A fresh Dovecot user with an empty mailbox."""
    return dovecot.add_user()


@pytest.fixture
def tls_context(dovecot: Dovecot) -> ssl.SSLContext:
    """A client context that trusts only the test CA and verifies host names."""
    return ssl.create_default_context(cafile=str(dovecot.ca_file))
