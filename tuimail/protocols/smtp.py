"""Submission over aiosmtplib: implicit TLS or mandatory STARTTLS, AUTH, one message per call.

The rules we add on top of aiosmtplib:

* ``starttls`` means STARTTLS or nothing: if the server does not offer it, refuses it or the
  handshake fails, we raise ``TLSError`` before a single credential byte is written;
* certificates are always verified against the context we are given (the system store when
  none is given);
* every failure becomes one of our errors with one readable line: ``TemporarySendError`` when
  trying again later can help (network, timeouts, 4xx), ``PermanentSendError`` when the
  server refused this message for good (5xx), ``AuthError`` and ``TLSError`` for account
  problems. Server text in them is cleaned of control characters and escapes.

Neither this module nor aiosmtplib (which has no logging of its own) logs a password or token.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import aiosmtplib

from tuimail.errors import AuthError, ConnectionLost, ProtocolError, TLSError
from tuimail.protocols.server_text import clean_server_text

log = logging.getLogger("tuimail.protocols.smtp")

Security = Literal["tls", "starttls", "none"]
_Phase = Literal["connect", "starttls", "auth", "send"]
PasswordSource = Callable[[], Awaitable[str]]
"""Fetches the password (keyring...) when the server turns out to want a login."""


class TemporarySendError(ConnectionLost):
    """Sending failed in a way that may pass: network down, timeout, or a 4xx reply.

    ``server_unavailable`` is False when the server was reached and deferred only this
    message (a 4xx to MAIL, RCPT or DATA), so other messages may still go through.
    """

    def __init__(self, message: str, *, server_unavailable: bool = True) -> None:
        super().__init__(message)
        self.server_unavailable = server_unavailable


class PermanentSendError(ProtocolError):
    """The server refused this message for good (a 5xx reply, or every recipient refused)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where a submission server is and how far to trust it."""

    host: str
    port: int
    security: Security
    ssl_context: ssl.SSLContext | None = None
    timeout: float = 60.0
    local_hostname: str | None = None  # the EHLO name; None lets aiosmtplib use the FQDN


@dataclass(frozen=True)
class SendResult:
    """What the server accepted: a message counts as sent once one recipient accepted it."""

    accepted: tuple[str, ...]
    refused: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Recipient -> the server's reply (``"550 5.1.1 no such user"``), cleaned."""
    temporarily_refused: tuple[str, ...] = ()
    """The refused recipients whose reply was 4xx: trying them again later may work."""
    reply: str = ""
    """The server's answer to the end of DATA (often its queue id), cleaned."""


async def send(
    settings: SmtpSettings,
    raw: bytes,
    sender: str,
    recipients: Sequence[str],
    *,
    username: str | None,
    password: str | None,
    oauth2_token: str | None = None,
    password_source: PasswordSource | None = None,
) -> SendResult:
    """Submit ``raw`` for ``recipients`` in one SMTP session and say who accepted it.

    Authenticates with XOAUTH2 when a token is given, else PLAIN or LOGIN when a password is;
    without either, ``password_source`` is asked only if the server offers AUTH (a relay that
    offers none gets the message without a login).
    """
    label = f"{settings.host}:{settings.port}"
    if not recipients:
        raise PermanentSendError("the message has no recipients")
    context = settings.ssl_context
    if context is None and settings.security != "none":
        context = ssl.create_default_context()
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=False,  # we upgrade ourselves: aiosmtplib's "if offered" would be optional
        tls_context=context if settings.security == "tls" else None,
        timeout=settings.timeout,
        local_hostname=settings.local_hostname,
    )
    log.debug("connecting to %s (%s)", label, settings.security)
    try:
        with _errors(label, "connect", settings.timeout):
            await client.connect()
            await client.ehlo()
        if settings.security == "starttls":
            assert context is not None
            await _starttls(client, context, label, settings.timeout)
        wants_login = bool(client.server_auth_methods)
        if password is None and oauth2_token is None and password_source and wants_login:
            password = await password_source()
        await _authenticate(client, label, settings.timeout, username, password, oauth2_token)
        with _errors(label, "send", settings.timeout):
            result = await _transaction(client, raw, sender, recipients)
    except BaseException:
        client.close()  # no polite QUIT to a server that failed us, or when we are cancelled
        raise
    await _quit(client)
    log.info(
        "%s accepted the message for %d of %d recipients",
        label,
        len(result.accepted),
        len(recipients),
    )
    return result


async def _starttls(
    client: aiosmtplib.SMTP, context: ssl.SSLContext, label: str, timeout: float
) -> None:
    if not client.supports_extension("starttls"):
        raise TLSError(
            f"SMTP server {label} does not offer STARTTLS; not sending the password unencrypted"
        )
    with _errors(label, "starttls", timeout):
        await client.starttls(tls_context=context)
        # RFC 3207 4.2: forget what the server said in clear text and ask again.
        await client.ehlo()
    if client.get_transport_info("sslcontext") is None:
        raise TLSError(f"SMTP server {label}: the connection is not encrypted after STARTTLS")


async def _authenticate(
    client: aiosmtplib.SMTP,
    label: str,
    timeout: float,
    username: str | None,
    password: str | None,
    oauth2_token: str | None,
) -> None:
    if username is None or (password is None and oauth2_token is None):
        return
    offered = [method.lower() for method in client.server_auth_methods]
    if oauth2_token is not None:
        if "xoauth2" not in offered:
            raise AuthError(f"SMTP server {label} does not offer XOAUTH2 for the OAuth2 token")
        mechanism = "XOAUTH2"
    elif "plain" in offered:
        mechanism = "PLAIN"
    elif "login" in offered:
        mechanism = "LOGIN"
    else:
        shown = " ".join(offered).upper() or "none"
        raise AuthError(
            f"SMTP server {label} offers no login method we support (PLAIN, LOGIN; "
            f"it offers: {clean_server_text(shown.encode())})"
        )
    log.debug("authenticating to %s with %s", label, mechanism)
    with _errors(label, "auth", timeout):
        if mechanism == "XOAUTH2":
            assert oauth2_token is not None
            await client.auth_xoauth2(username, oauth2_token)
        elif mechanism == "PLAIN":
            assert password is not None
            await client.auth_plain(username, password)
        else:
            assert password is not None
            await client.auth_login(username, password)


async def _transaction(
    client: aiosmtplib.SMTP, raw: bytes, sender: str, recipients: Sequence[str]
) -> SendResult:
    options: list[str] = []
    if not raw.isascii() and client.supports_extension("8bitmime"):
        options.append("BODY=8BITMIME")
    if not (sender.isascii() and all(r.isascii() for r in recipients)):
        # aiosmtplib refuses with SMTPNotSupported when the server lacks SMTPUTF8.
        options.append("SMTPUTF8")
    errors, reply = await client.sendmail(sender, list(recipients), raw, mail_options=options)
    refused = {
        address: _reply(response.code, response.message) for address, response in errors.items()
    }
    return SendResult(
        accepted=tuple(r for r in recipients if r not in refused),
        refused=MappingProxyType(refused),
        temporarily_refused=tuple(a for a, r in errors.items() if 400 <= r.code < 500),
        reply=clean_server_text(reply.encode("utf-8", "replace")),
    )


async def _quit(client: aiosmtplib.SMTP) -> None:
    """QUIT politely; once DATA was accepted nothing said here may turn into a failure."""
    try:
        await client.quit(timeout=5)
    except (aiosmtplib.SMTPException, OSError):
        log.debug("QUIT failed; closing the connection", exc_info=True)
        client.close()


def _reply(code: int, message: str) -> str:
    return clean_server_text(f"{code} {message}".encode("utf-8", "replace"))


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@contextlib.contextmanager
def _errors(label: str, phase: _Phase, timeout: float) -> Iterator[None]:
    """Turn what aiosmtplib raises during ``phase`` into our errors, with one clean line."""
    try:
        yield
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise _all_refused(label, exc) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise _response_error(label, phase, exc) from None
    except (aiosmtplib.SMTPTimeoutError, TimeoutError):
        raise TemporarySendError(
            f"SMTP server {label} did not answer within {timeout:g} s"
        ) from None
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
        tls = _ssl_cause(exc)
        if tls is not None:
            reason = clean_server_text(str(tls.reason or tls).encode())
            raise TLSError(f"TLS with SMTP server {label} failed: {reason}") from None
        if phase == "starttls":
            raise TLSError(
                f"SMTP server {label} dropped the connection during STARTTLS; "
                "not sending the password unencrypted"
            ) from None
        reason = clean_server_text(str(exc).encode("utf-8", "replace"))
        raise TemporarySendError(f"cannot reach SMTP server {label}: {reason}") from None
    except aiosmtplib.SMTPNotSupported as exc:
        raise PermanentSendError(
            f"SMTP server {label} cannot take this message: {clean_server_text(str(exc).encode())}"
        ) from None
    except ValueError as exc:  # aiosmtplib's check of an envelope address
        raise PermanentSendError(
            f"not a valid address for SMTP: {clean_server_text(str(exc).encode())}"
        ) from None
    except aiosmtplib.SMTPException as exc:
        text = clean_server_text(str(exc).encode("utf-8", "replace"))
        if phase == "auth":
            raise AuthError(f"SMTP server {label}: login failed: {text}") from None
        raise ProtocolError(f"SMTP server {label}: {text}") from None


def _response_error(label: str, phase: _Phase, exc: aiosmtplib.SMTPResponseException) -> Exception:
    reply = _reply(exc.code, exc.message)
    temporary = 400 <= exc.code < 500
    if phase == "starttls":
        return TLSError(
            f"SMTP server {label} refused STARTTLS ({reply}); not sending the password unencrypted"
        )
    if not 200 <= exc.code < 600:
        # aiosmtplib's -1: a reply too long or not SMTP at all. A broken server refused
        # nothing, so the message must wait for a better moment, not be failed for good.
        text = clean_server_text(exc.message.encode("utf-8", "replace"))
        return TemporarySendError(f"SMTP server {label} sent an invalid reply: {text}")
    if temporary:
        return TemporarySendError(
            f"SMTP server {label} is busy, try later: {reply}",
            server_unavailable=phase != "send" or exc.code == 421,
        )
    if phase == "auth":
        return AuthError(f"SMTP server {label} refused the login: {reply}")
    if exc.code == 530:  # RFC 4954: authentication required, an account problem
        return AuthError(f"SMTP server {label} wants a login first: {reply}")
    if phase == "connect":
        return ProtocolError(f"SMTP server {label} refused the session: {reply}")
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return PermanentSendError(f"SMTP server {label} refused the sender: {reply}")
    return PermanentSendError(f"SMTP server {label} refused the message: {reply}")


def _all_refused(label: str, exc: aiosmtplib.SMTPRecipientsRefused) -> Exception:
    parts = "; ".join(f"{r.recipient} ({_reply(r.code, r.message)})" for r in exc.recipients)
    if any(400 <= r.code < 500 for r in exc.recipients):
        return TemporarySendError(
            f"SMTP server {label} refused the recipients for now: {parts}",
            server_unavailable=False,
        )
    return PermanentSendError(f"SMTP server {label} refused every recipient: {parts}")
