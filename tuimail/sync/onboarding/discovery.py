"""Find a new account's servers: the provider table, else guesses checked by connecting.

Every guess is probed at once, each with a short deadline, by doctor's own transport checks
(DNS, TCP, then TLS or STARTTLS with the certificate verified), so a proposal never names a
server that doctor would fail on the same steps. No guess is sent a password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tuimail.config import AccountConfig, ServerConfig
from tuimail.errors import ConfigError
from tuimail.sync.doctor import CheckFailed, ServerDoctor
from tuimail.sync.onboarding.providers import (
    ServerChoice,
    domain_of,
    guesses,
    provider_for,
)

PROBE_TIMEOUT = 4.0  # per step; a host that is there answers on loopback-like time
_TRANSPORT = ("dns", "tcp", "tls", "starttls")
_NAMES = {"imap": "IMAP", "smtp": "SMTP"}

Kind = Literal["imap", "smtp"]


@dataclass(frozen=True, slots=True)
class Probe:
    """What connecting to one candidate showed: usable, or where it stopped."""

    choice: ServerChoice
    ok: bool
    detail: str
    reached: bool  # a TCP connection opened, so the failure (if any) is TLS's


@dataclass(frozen=True, slots=True)
class Proposal:
    """The servers the form fills in (None: nothing found) and one line about them."""

    imap: ServerChoice | None
    smtp: ServerChoice | None
    note: str
    provider: str | None = None


def _probe_account(kind: Kind, server: ServerConfig) -> AccountConfig:
    # The transport checks read only the server; model_construct skips the rule that an
    # account needs a receiver, which an SMTP-only probe does not have.
    if kind == "imap":
        return AccountConfig.model_construct(email="setup@invalid", imap=server)
    return AccountConfig.model_construct(email="setup@invalid", smtp=server)


async def probe(
    kind: Kind, choice: ServerChoice, *, ca_file: Path | None = None, timeout: float = PROBE_TIMEOUT
) -> Probe:
    """Connect to one candidate and bring TLS up; never logs in."""
    server = ServerConfig(
        host=choice.host,
        port=choice.port,
        security=choice.security,
        tls_ca_file=ca_file,
        timeout=timeout,
    )
    doctor = ServerDoctor("setup", _probe_account(kind, server), kind)
    detail, reached = "", False
    for name, step in doctor.steps():
        if name not in _TRANSPORT:
            continue
        try:
            detail = await step()
        except CheckFailed as failed:
            return Probe(choice, False, failed.detail, reached)
        reached = reached or name == "tcp"
    return Probe(choice, True, detail, True)


def _pick(kind: Kind, probes: Sequence[Probe]) -> tuple[ServerChoice | None, str]:
    """The first usable candidate in order of preference, and a few words about the result."""
    for found in probes:
        if found.ok:
            return found.choice, f"{_NAMES[kind]} {found.choice}"
    reached = next((found for found in probes if found.reached), None)
    if reached is not None:
        return None, f"no usable {_NAMES[kind]} server ({reached.choice}: {reached.detail})"
    hosts = sorted({found.choice.host for found in probes})
    return None, f"no {_NAMES[kind]} server answered at {' or '.join(hosts)}"


async def propose(
    email: str,
    *,
    candidates: tuple[Sequence[ServerChoice], Sequence[ServerChoice]] | None = None,
    ca_file: Path | None = None,
    timeout: float = PROBE_TIMEOUT,
) -> Proposal:
    """Servers for ``email``: a known provider's, else the first guesses that answer with TLS.

    ``candidates`` replaces the guesses (IMAP list, SMTP list), for hosts the guesses cannot
    know, such as a test server on a free port.
    """
    domain = domain_of(email)
    if "@" not in email or "." not in domain:
        raise ConfigError(f"{email!r} is not an email address like ann@example.com")
    provider = provider_for(email)
    if provider is not None and candidates is None:
        note = provider.note or f"{provider.name}: servers from tuimail's list"
        return Proposal(provider.imap, provider.smtp, note, provider.name)
    imap_candidates, smtp_candidates = candidates or guesses(domain)
    probes = await asyncio.gather(
        *(probe("imap", c, ca_file=ca_file, timeout=timeout) for c in imap_candidates),
        *(probe("smtp", c, ca_file=ca_file, timeout=timeout) for c in smtp_candidates),
    )
    imap, imap_note = _pick("imap", probes[: len(imap_candidates)])
    smtp, smtp_note = _pick("smtp", probes[len(imap_candidates) :])
    found = "found " if imap is not None or smtp is not None else ""
    return Proposal(imap, smtp, f"{found}{imap_note}; {smtp_note}")
