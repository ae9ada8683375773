"""Where a domain's mail servers are: a table of well-known providers, then the usual guesses.

The table holds only what a provider documents for IMAP and SMTP submission with a password.
For any other domain the guesses follow what most hosts use (``imap.DOMAIN`` or ``mail.DOMAIN``
for IMAP, ``smtp.DOMAIN`` or ``mail.DOMAIN`` for SMTP, implicit TLS before STARTTLS); they are
only guesses until ``discovery`` has connected to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuimail.config_view import DEFAULT_PORTS, Security


@dataclass(frozen=True, slots=True)
class ServerChoice:
    """One server the setup form proposes: host, port and how TLS starts."""

    host: str
    port: int
    security: Security

    def __str__(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


@dataclass(frozen=True, slots=True)
class Provider:
    """A mail provider's documented servers, and what its users must know to log in."""

    name: str
    imap: ServerChoice
    smtp: ServerChoice
    note: str = ""


def _tls(host: str, kind: str) -> ServerChoice:
    return ServerChoice(host, DEFAULT_PORTS[kind]["tls"], "tls")


def _starttls(host: str, kind: str) -> ServerChoice:
    return ServerChoice(host, DEFAULT_PORTS[kind]["starttls"], "starttls")


_APP_PASSWORD = "use an app password from the account's security settings"

_PROVIDERS: tuple[tuple[tuple[str, ...], Provider], ...] = (
    (
        ("gmail.com", "googlemail.com"),
        Provider(
            "Gmail",
            _tls("imap.gmail.com", "imap"),
            _tls("smtp.gmail.com", "smtp"),
            f"Gmail: {_APP_PASSWORD} (needs 2-step verification), or oauth2_token_command",
        ),
    ),
    (
        ("outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk", "outlook.de"),
        Provider(
            "Outlook.com",
            _tls("outlook.office365.com", "imap"),
            _starttls("smtp-mail.outlook.com", "smtp"),
            "Outlook.com: Microsoft may refuse passwords; then set oauth2_token_command",
        ),
    ),
    (
        ("yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr"),
        Provider(
            "Yahoo",
            _tls("imap.mail.yahoo.com", "imap"),
            _tls("smtp.mail.yahoo.com", "smtp"),
            f"Yahoo: {_APP_PASSWORD}",
        ),
    ),
    (
        ("icloud.com", "me.com", "mac.com"),
        Provider(
            "iCloud",
            _tls("imap.mail.me.com", "imap"),
            _starttls("smtp.mail.me.com", "smtp"),
            "iCloud: use an app-specific password from account.apple.com",
        ),
    ),
    (
        ("fastmail.com", "fastmail.fm"),
        Provider(
            "Fastmail",
            _tls("imap.fastmail.com", "imap"),
            _tls("smtp.fastmail.com", "smtp"),
            f"Fastmail: {_APP_PASSWORD}",
        ),
    ),
    (
        ("gmx.net", "gmx.de", "gmx.at", "gmx.ch"),
        Provider(
            "GMX",
            _tls("imap.gmx.net", "imap"),
            _tls("mail.gmx.net", "smtp"),
            "GMX: allow IMAP access in the GMX settings first",
        ),
    ),
    (
        ("gmx.com",),
        Provider(
            "GMX",
            _tls("imap.gmx.com", "imap"),
            _tls("mail.gmx.com", "smtp"),
            "GMX: allow IMAP access in the GMX settings first",
        ),
    ),
    (
        ("posteo.de", "posteo.net", "posteo.org", "posteo.eu"),
        Provider("Posteo", _tls("posteo.de", "imap"), _tls("posteo.de", "smtp")),
    ),
    (
        ("mailbox.org",),
        Provider("mailbox.org", _tls("imap.mailbox.org", "imap"), _tls("smtp.mailbox.org", "smtp")),
    ),
    (
        ("zoho.com", "zohomail.com"),
        Provider(
            "Zoho",
            _tls("imap.zoho.com", "imap"),
            _tls("smtp.zoho.com", "smtp"),
            "Zoho: allow IMAP access in the Zoho Mail settings first",
        ),
    ),
)

PROVIDERS: dict[str, Provider] = {
    domain: provider for domains, provider in _PROVIDERS for domain in domains
}
"""Domain -> provider, for every domain a provider's addresses end in."""


def domain_of(email: str) -> str:
    """The domain of an address, lower case: ``Ann@Example.COM`` -> ``example.com``."""
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def provider_for(email: str) -> Provider | None:
    """The well-known provider of this address, or None."""
    return PROVIDERS.get(domain_of(email))


def guesses(domain: str) -> tuple[list[ServerChoice], list[ServerChoice]]:
    """(IMAP, SMTP) candidates for an unknown domain, most likely first."""
    imap = [
        make(f"{prefix}.{domain}", "imap")
        for prefix in ("imap", "mail")
        for make in (_tls, _starttls)
    ]
    smtp = [
        make(f"{prefix}.{domain}", "smtp")
        for prefix in ("smtp", "mail")
        for make in (_tls, _starttls)
    ]
    return imap, smtp
