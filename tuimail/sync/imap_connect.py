"""Opening a logged-in IMAP connection for an account: TLS settings, then password or token."""

from __future__ import annotations

from dataclasses import replace

from tuimail import secrets
from tuimail.config_view import ImapAccountSettings
from tuimail.errors import ConfigError
from tuimail.protocols.imap import ImapClient, ImapSettings
from tuimail.protocols.tls import client_context


def imap_settings(account: ImapAccountSettings) -> ImapSettings:
    """The IMAP client settings for an account, TLS context included."""
    server = account.imap
    if server is None:
        raise ConfigError("not an IMAP account")
    context = (
        client_context(server.tls_ca_file, server.tls_verify) if server.security != "none" else None
    )
    return ImapSettings(
        host=server.host,
        port=server.port_for("imap"),
        security=server.security,
        ssl_context=context,
        timeout=server.timeout,
    )


async def connect(
    name: str, account: ImapAccountSettings, *, timeout: float | None = None
) -> ImapClient:
    """A logged-in client for the account (password, keyring or OAuth2 token); ``timeout``
    replaces the account's for every wait on this connection (``ImapClient.patience``)."""
    server = account.imap
    if server is None:
        raise ConfigError(f"account {name!r} is not an IMAP account")
    settings = imap_settings(account)
    if timeout is not None:
        settings = replace(settings, timeout=timeout)
    client = await ImapClient.connect(settings)
    try:
        username = server.username or account.email
        token = await secrets.get_oauth2_token(name, "imap", server)
        if token is not None:
            mechanism = "xoauth2" if server.auth == "xoauth2" else "auto"
            await client.login_oauth2(username, token, mechanism)  # type: ignore[arg-type]
        else:
            password = await secrets.get_password(name, "imap", server, username)
            mechanism = server.auth if server.auth in ("plain", "login") else "auto"
            await client.login(username, password, mechanism)  # type: ignore[arg-type]
        await client.enable("QRESYNC", "CONDSTORE")
    except BaseException:
        await client.close()
        raise
    return client
