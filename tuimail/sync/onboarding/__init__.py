"""First run and ``tuimail account add``: find the servers, test the login, save the account.

``discovery.propose`` fills the form's servers; ``verify_and_save`` checks the name is free, logs
in to each server with the typed password, stores that password in the keyring (unless a
password_command was given) and only then appends the account to the config file.
"""

from __future__ import annotations

from pathlib import Path

from tuimail.errors import ConfigError
from tuimail.sync.onboarding.account_file import add_account, new_config_text
from tuimail.sync.onboarding.discovery import Proposal, propose
from tuimail.sync.onboarding.new_account import NewAccount, Report, default_name, verify
from tuimail.sync.onboarding.providers import ServerChoice

__all__ = [
    "NewAccount",
    "Proposal",
    "ServerChoice",
    "default_name",
    "propose",
    "verify_and_save",
]


async def verify_and_save(path: Path, account: NewAccount, report: Report | None = None) -> None:
    """Refuse a taken name, test the login, keep the password, write the account to ``path``."""
    if not account.password_command and not account.password:
        raise ConfigError("enter the password, or choose a password command")
    new_config_text(path, account)  # a taken name or a broken file fails before any login
    await verify(account, report)
    await add_account(path, account)
