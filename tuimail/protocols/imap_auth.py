"""IMAP authentication: LOGIN, AUTHENTICATE PLAIN, XOAUTH2 and OAUTHBEARER.

Secrets go from the caller to the socket and nowhere else: commands are logged from a
``shown`` text with the secret replaced, and errors quote only the server's reply.
"""

from __future__ import annotations

import base64
from typing import Literal

from tuimail.errors import AuthError, ProtocolError
from tuimail.protocols.imap_parse import StatusText, parse_tagged
from tuimail.protocols.imap_session import ImapSession, astring, parse_capabilities
from tuimail.protocols.server_text import clean_server_text

PasswordMechanism = Literal["auto", "login", "plain"]
TokenMechanism = Literal["auto", "xoauth2", "oauthbearer"]

# RFC 5530 codes that mean the server, not the credentials, is the problem.
_NOT_A_CREDENTIAL_PROBLEM = frozenset(
    {"UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT", "CONTACTADMIN"}
)
# What to answer a challenge after the initial response: "*" cancels (RFC 3501); the OAuth
# mechanisms send their error as a challenge and want a dummy reply before the tagged NO.
_AFTER_ERROR_CHALLENGE = {"XOAUTH2": b"", "OAUTHBEARER": b"AQ=="}


def check_credentials(label: str, *values: str) -> None:
    """Refuse credentials that cannot be sent intact."""
    if any(ch in value for value in values for ch in "\r\n\0"):
        raise AuthError(
            f"cannot log in to IMAP server {label}: the user name, password or token "
            "contains a line break or NUL character"
        )


async def login(
    session: ImapSession, username: str, password: str, mechanism: PasswordMechanism
) -> None:
    """Log in with a password: AUTHENTICATE PLAIN when offered (auto), else LOGIN."""
    check_credentials(session.label, username, password)
    if mechanism == "auto":
        mechanism = "plain" if "AUTH=PLAIN" in session.capabilities else "login"
    if mechanism == "plain":
        blob = b"\0" + username.encode() + b"\0" + password.encode()
        status, text = await authenticate(session, "PLAIN", blob)
    else:
        if "LOGINDISABLED" in session.capabilities:
            raise AuthError(
                f"IMAP server {session.label} does not allow LOGIN on this connection "
                "(LOGINDISABLED); use TLS or STARTTLS"
            )
        shown = f"LOGIN {clean_server_text(username.encode())} ***"
        arguments = [b"LOGIN", astring(username), astring(password)]
        status, text = await session.command_status(arguments, shown)
    await after_login(session, status, text)


async def login_oauth2(
    session: ImapSession,
    username: str,
    token: str,
    mechanism: TokenMechanism,
    host: str,
    port: int,
) -> None:
    """Log in with an OAuth 2 access token: OAUTHBEARER when offered (auto), else XOAUTH2."""
    check_credentials(session.label, username, token)
    if mechanism == "auto":
        mechanism = "oauthbearer" if "AUTH=OAUTHBEARER" in session.capabilities else "xoauth2"
    if mechanism == "xoauth2":
        payload = f"user={username}\x01auth=Bearer {token}\x01\x01"
        status, text = await authenticate(session, "XOAUTH2", payload.encode())
    else:
        # RFC 7628 gs2-header: "," and "=" in the authorization identity are escaped.
        authzid = username.replace("=", "=3D").replace(",", "=2C")
        payload = f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
        status, text = await authenticate(session, "OAUTHBEARER", payload.encode())
    await after_login(session, status, text)


async def authenticate(
    session: ImapSession, mechanism: str, initial: bytes
) -> tuple[str, StatusText]:
    """Run AUTHENTICATE with one initial response (sent inline when SASL-IR is offered)."""
    tag = session.next_tag()
    encoded = base64.b64encode(initial) or b"="
    inline = "SASL-IR" in session.capabilities
    arguments = [b"AUTHENTICATE", mechanism.encode()] + ([encoded] if inline else [])
    await session.send(tag, arguments, f"AUTHENTICATE {mechanism}{' ***' if inline else ''}", None)
    sent = inline
    while True:
        response = await session.wire.read_response()
        if response.startswith(tag + b" "):
            return parse_tagged(response, tag)
        if response[:1] != b"+":
            session.dispatch(response)
            continue
        answer = _AFTER_ERROR_CHALLENGE.get(mechanism, b"*") if sent else encoded
        sent = True
        session.wire.send(answer + b"\r\n")


async def after_login(session: ImapSession, status: str, text: StatusText) -> None:
    """Raise for a refused login; otherwise learn the capabilities of the logged-in session."""
    if status != "OK":
        reason = text.text or "no reason given"
        if text.code in _NOT_A_CREDENTIAL_PROBLEM or status == "BAD":
            raise ProtocolError(f"IMAP server {session.label} could not log in: {reason}")
        raise AuthError(f"IMAP server {session.label} refused the login: {reason}")
    # Capabilities change after login (Dovecot adds MOVE, CONDSTORE...), and an [ALERT] or a
    # forged list from before TLS must not outlive it.
    if text.code == "CAPABILITY" and text.arg is not None:
        session.capabilities = parse_capabilities(text.arg)
    else:
        session.capabilities = frozenset()
        await session.command([b"CAPABILITY"], "CAPABILITY")
