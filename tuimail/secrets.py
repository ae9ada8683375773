"""Passwords and OAuth2 tokens: from a command, the keyring or (discouraged) the config.

Secrets are returned to the caller and held only in memory. Nothing here logs a secret or puts
one into an exception message; command failures report the command's exit status and the first
line of its error output, never its standard output.
"""

from __future__ import annotations

import asyncio
import logging
import re

from tuimail.config_view import ServerSettings
from tuimail.errors import SecretError
from tuimail.protocols import program

log = logging.getLogger(__name__)
KEYRING_SERVICE = "tuimail"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def keyring_key(account: str, protocol: str, username: str, host: str) -> str:
    """The keyring user name under which a server's password is stored."""
    return f"{account}/{protocol}/{username}@{host}"


def has_credentials(server: ServerSettings) -> bool:
    """Whether the config names a secret for ``server`` (a password, a password command or a
    token command); without one, the keyring is asked only if the server wants a login."""
    return (
        server.password is not None
        or bool(server.password_command)
        or bool(server.oauth2_token_command)
    )


async def get_password(account: str, protocol: str, server: ServerSettings, username: str) -> str:
    """The password for ``server``: config value, password_command, or the keyring."""
    if server.password is not None:
        return server.password.get_secret_value()
    if server.password_command:
        return await run_secret_command(
            server.password_command, f"accounts.{account}.{protocol}.password_command"
        )
    import keyring  # here, not at the top: 25-35 ms that a password from the config never needs
    import keyring.errors

    key = keyring_key(account, protocol, username, server.host)
    try:
        secret = await asyncio.to_thread(keyring.get_password, KEYRING_SERVICE, key)
    except keyring.errors.KeyringError as exc:
        raise SecretError(
            f"{account} ({protocol}): the keyring could not be read ({type(exc).__name__}); "
            "set password_command in the config"
        ) from None
    if secret is None:
        raise SecretError(
            f"{account} ({protocol}): no password in the keyring for {key}; "
            "run `tuimail account add` or set password_command"
        )
    return secret


async def get_oauth2_token(account: str, protocol: str, server: ServerSettings) -> str | None:
    """The OAuth2 access token from oauth2_token_command, or None when none is configured."""
    if not server.oauth2_token_command:
        return None
    return await run_secret_command(
        server.oauth2_token_command, f"accounts.{account}.{protocol}.oauth2_token_command"
    )


def store_password(account: str, protocol: str, username: str, host: str, secret: str) -> None:
    """Save a password in the system keyring (used by the setup form)."""
    import keyring
    import keyring.errors

    try:
        keyring.set_password(
            KEYRING_SERVICE, keyring_key(account, protocol, username, host), secret
        )
    except keyring.errors.KeyringError as exc:
        raise SecretError(
            f"the keyring cannot store passwords here ({type(exc).__name__}); "
            "use password_command instead"
        ) from None


async def run_secret_command(command: str, key: str, timeout: float = 60.0) -> str:
    """Run a user's shell command and return the first line of its output, kept in memory."""
    # The command comes from the user's own config file (like mutt's `source`), so a shell is
    # what they expect: `pass show x | head -1` must work.
    log.debug("running %s", key)
    # Its own process group (program.run), so that a timeout or a cancel ends what it started
    # (pass, gpg, pinentry) with it: killing the shell alone leaves them holding its output.
    try:
        proc = await program.run(["/bin/sh", "-c", command], None, timeout)
    except TimeoutError:
        raise SecretError(f"{key} did not finish within {timeout:.0f} s") from None
    out, err = proc.stdout, proc.stderr
    if proc.returncode != 0:
        detail = (
            _CONTROL.sub("", err.decode("utf-8", "replace").strip().splitlines()[0][:200])
            if err.strip()
            else ""
        )
        suffix = f": {detail}" if detail else ""
        raise SecretError(f"{key} failed with exit status {proc.returncode}{suffix}")
    lines = out.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        raise SecretError(f"{key} printed nothing")
    return lines[0]
