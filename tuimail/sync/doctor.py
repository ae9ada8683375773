"""``tuimail doctor``: check each server of each account, step by step, and say how to fix it.

For every server (IMAP or POP3, and SMTP) the checks run in the order a connection needs them:
the host name resolves, a TCP connection opens, TLS comes up (the protocol version, and whether
the certificate was verified; for ``starttls``, first whether the server offers STARTTLS), the
login is accepted, and the folders can be read (IMAP LIST, POP3 STAT). The first failure ends
that server's checks, since every later one would fail for the same reason.

The transport checks (DNS, TCP, TLS, STARTTLS offered) are small probes of their own: the
protocol clients hide the TLS details a diagnosis needs. Login and folders go through the same
code as a sync (``imap_connect.connect``, ``Pop3Client``, ``secrets``), so an "ok" here means the
sync can log in too. SMTP login is tried with aiosmtplib directly, because ``protocols.smtp``
offers only a whole submission. No check writes the store, and no result carries a secret.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from tuimail import secrets
from tuimail.config import AccountConfig, LoadedConfig, ServerConfig
from tuimail.config_view import DEFAULT_PORTS
from tuimail.errors import AuthError, SecretError, TLSError, TuimailError
from tuimail.protocols.pop3 import Pop3Client
from tuimail.protocols.tls import client_context
from tuimail.sync.accounts import pop3_settings
from tuimail.sync.imap_connect import connect as imap_connect

Kind = Literal["imap", "pop3", "smtp"]
CheckName = Literal["config", "dns", "tcp", "starttls", "tls", "login", "folders"]
MAX_WAIT = 15.0  # a diagnosis should not sit a minute on each unanswered step

_STARTTLS_WORD = {"imap": b"STARTTLS", "pop3": b"STLS", "smtp": b"STARTTLS"}
_NAMES = {"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP"}


@dataclass(frozen=True, slots=True)
class Check:
    """One step's verdict: what was found, and for a failure what to do about it."""

    account: str
    server: Kind
    name: CheckName
    ok: bool
    detail: str
    fix: str = ""


class CheckFailed(Exception):
    """A step failed; ``detail`` says what happened and ``fix`` what to change."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


Report = Callable[[Check], None]


def usual_ports(kind: Kind) -> str:
    """``993 (tls) / 143 (starttls)`` for IMAP, and so on."""
    ports = DEFAULT_PORTS[kind]
    return f"{ports['tls']} (tls) / {ports['starttls']} (starttls)"


def _verify_text(server: ServerConfig, host: str) -> str:
    if not server.tls_verify:
        return "certificate NOT verified (tls_verify = false)"
    trusted = f"tls_ca_file {server.tls_ca_file}" if server.tls_ca_file else "the system store"
    return f"certificate verified for {host} (trusted through {trusted})"


def _tls_failure(exc: ssl.SSLError, kind: Kind, host: str, port: int) -> CheckFailed:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return CheckFailed(
            f"certificate verify failed: {exc.verify_message or exc.reason or exc}",
            "the certificate is not trusted: set tls_ca_file to your CA, or check the host name",
        )
    return CheckFailed(
        f"TLS handshake with {host}:{port} failed ({exc.reason or exc})",
        f"the server does not speak TLS on this port: the usual ports are {usual_ports(kind)}; "
        'on a STARTTLS port set security = "starttls"',
    )


class ServerDoctor:
    """The checks of one server of one account."""

    def __init__(self, account_name: str, account: AccountConfig, kind: Kind) -> None:
        server = {"imap": account.imap, "pop3": account.pop3, "smtp": account.smtp}[kind]
        assert server is not None
        self.account_name = account_name
        self.account = account
        self.kind = kind
        self.server = server
        self.host = server.host
        self.port = server.port_for(kind)
        self.wait = min(server.timeout, MAX_WAIT)
        self.username = server.username or account.email

    def steps(self) -> list[tuple[CheckName, Callable[[], Awaitable[str]]]]:
        """The checks in the order a connection needs them."""
        steps: list[tuple[CheckName, Callable[[], Awaitable[str]]]] = [
            ("dns", self.dns),
            ("tcp", self.tcp),
        ]
        if self.server.security == "starttls":
            steps.append(("starttls", self.starttls))
        elif self.server.security == "tls":
            steps.append(("tls", self.tls))
        steps.append(("login", self.login))
        if self.kind != "smtp":
            steps.append(("folders", self.folders))
        return steps

    async def run(self, report: Report) -> bool:
        """Run the steps until one fails; report each. True when all passed."""
        for name, step in self.steps():
            try:
                detail = await step()
            except CheckFailed as failed:
                report(self._check(name, False, failed.detail, failed.fix))
                return False
            report(self._check(name, True, detail))
        return True

    def _check(self, name: CheckName, ok: bool, detail: str, fix: str = "") -> Check:
        return Check(self.account_name, self.kind, name, ok, detail, fix)

    # -- transport ----------------------------------------------------------------------------

    async def dns(self) -> str:
        """The host name resolves."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.wait):
                found = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, TimeoutError) as exc:
            reason = "no answer from DNS" if isinstance(exc, TimeoutError) else exc.strerror
            raise CheckFailed(
                f"{self.host} does not resolve ({reason})",
                f"check accounts.{self.account_name}.{self.kind}.host for typos, "
                "and that this machine is online",
            ) from None
        addresses = sorted({str(info[4][0]) for info in found})
        return f"{self.host} -> {', '.join(addresses[:4])}"

    async def _open(
        self, context: ssl.SSLContext | None = None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with asyncio.timeout(self.wait):
            return await asyncio.open_connection(
                self.host, self.port, ssl=context, server_hostname=self.host if context else None
            )

    async def tcp(self) -> str:
        """A TCP connection to the port opens."""
        try:
            _, writer = await self._open()
        except TimeoutError:
            raise CheckFailed(
                f"no answer from {self.host}:{self.port} within {self.wait:g} s",
                "a firewall may drop the connection, or the port is wrong; "
                f"the usual ports are {usual_ports(self.kind)}",
            ) from None
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)  # "Connection refused"
            raise CheckFailed(
                f"cannot connect to {self.host}:{self.port} ({reason})",
                f"nothing listens on {self.host}:{self.port}; "
                f"the usual ports are {usual_ports(self.kind)}",
            ) from None
        writer.close()
        return f"connected to {self.host}:{self.port}"

    def _context(self) -> ssl.SSLContext:
        try:
            return client_context(self.server.tls_ca_file, self.server.tls_verify)
        except TLSError as exc:
            raise CheckFailed(str(exc), "point tls_ca_file at a PEM file of your CA") from None

    async def tls(self) -> str:
        """Implicit TLS comes up: the protocol version, and whether the certificate was verified."""
        try:
            _, writer = await self._open(self._context())
        except ssl.SSLError as exc:
            raise _tls_failure(exc, self.kind, self.host, self.port) from None
        except (OSError, TimeoutError) as exc:
            raise CheckFailed(
                f"the TLS handshake with {self.host}:{self.port} did not finish ({exc})",
                f"the server may not speak TLS on this port; the usual ports are "
                f"{usual_ports(self.kind)}",
            ) from None
        version = writer.get_extra_info("ssl_object").version()
        writer.close()
        return f"{version}, {_verify_text(self.server, self.host)}"

    async def starttls(self) -> str:
        """Ask for STARTTLS in clear text, then upgrade: offered, accepted, and verified."""
        context = self._context()
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await self._open()
            async with asyncio.timeout(self.wait):
                await _ask_for_starttls(self.kind, reader, writer)
                try:
                    await writer.start_tls(context, server_hostname=self.host)
                except ssl.SSLError as exc:
                    raise _tls_failure(exc, self.kind, self.host, self.port) from None
                version = writer.get_extra_info("ssl_object").version()
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise CheckFailed(
                f"the STARTTLS exchange with {self.host}:{self.port} broke off "
                f"({type(exc).__name__})",
                f"check the port: the usual ports are {usual_ports(self.kind)}",
            ) from None
        finally:
            if writer is not None:
                writer.close()
        return f"offered; {version}, {_verify_text(self.server, self.host)}"

    # -- account ------------------------------------------------------------------------------

    async def _password(self) -> tuple[str | None, str | None]:
        """(OAuth2 token, password): the token when one is configured, else the password."""
        token = await secrets.get_oauth2_token(self.account_name, self.kind, self.server)
        if token is not None:
            return token, None
        return None, await secrets.get_password(
            self.account_name, self.kind, self.server, self.username
        )

    async def login(self) -> str:
        """The server accepts the login, through the same code a sync uses."""
        try:
            if self.kind == "imap":
                client = await imap_connect(self.account_name, self.account)
                await client.close()
            elif self.kind == "pop3":
                await self._pop3_session(with_stat=False)
            else:
                return await self._smtp_login()
        except SecretError as exc:
            raise CheckFailed(
                str(exc), "the password could not be read: fix password_command or the keyring"
            ) from None
        except AuthError as exc:
            raise CheckFailed(
                str(exc),
                f"the server refused the login as {self.username}: "
                "check username and password_command / the keyring",
            ) from None
        except TuimailError as exc:
            raise CheckFailed(str(exc), "see the message; `tuimail --debug` logs more") from None
        return f"logged in as {self.username}"

    async def folders(self) -> str:
        """The folders can be read: IMAP LIST, POP3 STAT."""
        try:
            if self.kind == "imap":
                client = await imap_connect(self.account_name, self.account)
                try:
                    listed = await client.list_folders()
                finally:
                    await client.close()
                names = [info.name for info in listed if info.selectable]
                shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
                return f"{len(names)} folders: {shown}"
            count, size = await self._pop3_session(with_stat=True)
            return f"{count} messages, {size / 1_000_000:.1f} MB on the server"
        except TuimailError as exc:
            raise CheckFailed(
                str(exc), "logged in, but the folders could not be read; retry, then ask the host"
            ) from None

    async def _pop3_session(self, with_stat: bool) -> tuple[int, int]:
        _, settings = pop3_settings(self.account)
        _, password = await self._password()
        mechanism = self.server.auth if self.server.auth in ("user", "apop", "plain") else "auto"
        async with await Pop3Client.connect(settings) as client:
            await client.login(self.username, password or "", mechanism)
            found = await client.stat() if with_stat else (0, 0)
            await client.quit()  # nothing was marked deleted: QUIT changes nothing
        return found

    async def _smtp_login(self) -> str:
        # As the outbox does: with nothing configured, a relay that offers no AUTH is used
        # without a login, and the keyring is asked only when the server wants one.
        configured = secrets.has_credentials(self.server)
        tls = self.server.security != "none"
        context = self._context() if tls else None
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.server.security == "tls",
            start_tls=False,
            tls_context=context if self.server.security == "tls" else None,
            timeout=self.wait,
        )
        try:
            await client.connect()
            if self.server.security == "starttls":
                await client.starttls(tls_context=context)
            await client.ehlo()
            if not configured and not client.supports_extension("auth"):
                await client.quit()
                return "no login needed: the server offers none"
            token, password = await self._password()
            if token is not None:
                await client.auth_xoauth2(self.username, token)
            else:
                await client.login(self.username, password or "")
            await client.quit()
        except aiosmtplib.SMTPAuthenticationError as exc:
            label = f"{self.host}:{self.port}"
            raise AuthError(
                f"SMTP server {label} refused the login: {exc.code} {exc.message}"
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TuimailError(f"SMTP server {self.host}:{self.port}: {exc}") from None
        finally:
            client.close()
        return f"logged in as {self.username}"


async def _reply_lines(reader: asyncio.StreamReader, done: Callable[[bytes], bool]) -> list[bytes]:
    """Read lines until ``done(line)``; at most 200, as no capability list is longer."""
    lines: list[bytes] = []
    for _ in range(200):
        line = await reader.readline()
        if not line:
            raise asyncio.IncompleteReadError(b"".join(lines), None)
        lines.append(line.rstrip(b"\r\n"))
        if done(lines[-1]):
            return lines
    raise CheckFailed("the server's reply did not end", "check the port and the protocol")


async def _ask_for_starttls(
    kind: Kind, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Read the greeting, look for STARTTLS among the capabilities, and ask for it."""
    word = _STARTTLS_WORD[kind]
    not_offered = CheckFailed(
        f"the {_NAMES[kind]} server does not offer {word.decode()} on this port",
        f'use security = "tls" and port {DEFAULT_PORTS[kind]["tls"]}, '
        "or ask the provider which port offers STARTTLS",
    )
    if kind == "imap":
        await reader.readline()
        writer.write(b"D1 CAPABILITY\r\n")
        lines = await _reply_lines(reader, lambda line: line.startswith(b"D1 "))
        if not any(word in line.upper().split() for line in lines if line.startswith(b"* ")):
            raise not_offered
        writer.write(b"D2 STARTTLS\r\n")
        reply = (await _reply_lines(reader, lambda line: line.startswith(b"D2 ")))[-1]
        accepted = reply.upper().startswith(b"D2 OK")
    elif kind == "pop3":
        await reader.readline()
        writer.write(b"CAPA\r\n")
        first = await reader.readline()
        lines = await _reply_lines(reader, lambda line: line == b".") if first[:3] == b"+OK" else []
        if not any(line.upper().strip() == word for line in lines):
            raise not_offered
        writer.write(b"STLS\r\n")
        reply = await reader.readline()
        accepted = reply.startswith(b"+OK")
    else:
        await _reply_lines(reader, lambda line: line[3:4] != b"-")
        writer.write(b"EHLO tuimail-doctor\r\n")
        lines = await _reply_lines(reader, lambda line: line[3:4] != b"-")
        if not any(line[4:].upper().strip() == word for line in lines):
            raise not_offered
        writer.write(b"STARTTLS\r\n")
        reply = (await _reply_lines(reader, lambda line: line[3:4] != b"-"))[-1]
        accepted = reply.startswith(b"220")
    if not accepted:
        raise CheckFailed(
            f"the server offers STARTTLS but refused it: {reply[:200].decode('ascii', 'replace')}",
            f'use security = "tls" and port {DEFAULT_PORTS[kind]["tls"]}',
        )


def config_check(name: str, account: AccountConfig) -> Check:
    """The account's settings in one line: the config was valid, or nothing would run."""
    receiver = account.receiver
    parts = [
        f"receives over {_NAMES[account.kind]} at {receiver.host}:{receiver.port_for(account.kind)}"
        f" ({receiver.security})"
    ]
    if account.smtp is not None:
        smtp = account.smtp
        parts.append(f"sends over SMTP at {smtp.host}:{smtp.port_for('smtp')} ({smtp.security})")
    else:
        parts.append("no [smtp]: this account cannot send")
    return Check(name, account.kind, "config", True, "; ".join(parts))


async def diagnose(loaded: LoadedConfig, names: Sequence[str] | None, report: Report) -> bool:
    """Check the named accounts (all when none), reporting each step; True when all passed."""
    chosen = list(names) if names else list(loaded.accounts)
    accounts = {name: loaded.account(name) for name in chosen}  # unknown names fail first
    all_ok = True
    for name, account in accounts.items():
        report(config_check(name, account))
        kinds: list[Kind] = [account.kind] + (["smtp"] if account.smtp is not None else [])
        for kind in kinds:
            all_ok = await ServerDoctor(name, account, kind).run(report) and all_ok
    return all_ok
