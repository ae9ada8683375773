"""What every subcommand shares: the context, one-line failures, running with the store."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from tuimail.errors import ConfigError

# The config models (pydantic), asyncio and the store load when a command first needs them:
# `tuimail --version` and the plain reads of `list` and `read` answer without them.
if TYPE_CHECKING:
    from tuimail.config import LoadedConfig
    from tuimail.config_view import ImapAccountSettings
    from tuimail.store.db import Store

log = logging.getLogger("tuimail")
T = TypeVar("T")

EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_INTERNAL = 70


def fail(message: str, status: int = EXIT_ERROR) -> NoReturn:
    """Print one line for the user and exit."""
    click.echo(f"tuimail: {message}", err=True)
    sys.exit(status)


@dataclass
class Context:
    """What the top-level options decided, for the subcommands."""

    config_path: Path | None
    debug: bool
    _loaded: LoadedConfig | None = field(default=None, init=False, repr=False)
    _plain: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _warned: bool = field(default=False, init=False, repr=False)

    def config_file(self) -> Path:
        from tuimail import paths

        return self.config_path or paths.config_file()

    def check_config(self) -> None:
        """Refuse a broken config file and print its warnings, as ``config()`` does.

        A plainly valid file is checked without loading the config models (pydantic): the
        commands that use no setting answer sooner.
        """
        if self._warned:
            return
        from tuimail.config_plain import plain_warnings, read_toml

        path = self._existing_file()
        data = read_toml(path)
        warnings = plain_warnings(data, path)
        if warnings is None:  # the models word the error, or accept what is not plain
            from tuimail.config import validate_file

            self._loaded = validate_file(data, path)
            warnings = self._loaded.warnings
        else:
            self._plain = data
        self._warn(warnings)

    def imap_accounts(self, names: Collection[str]) -> dict[str, ImapAccountSettings] | None:
        """The named accounts (all when none are named) when every one is an IMAP account;
        None otherwise. From a plainly valid file without the config models."""
        self.check_config()
        views: Mapping[str, ImapAccountSettings | None]
        if self._plain is not None:
            from tuimail.config_view import imap_account_views

            views = imap_account_views(self._plain)
        else:
            views = {
                name: account if account.imap is not None else None
                for name, account in self.config().accounts.items()
            }
        chosen = {name: views.get(name) for name in names or views}
        if any(account is None for account in chosen.values()):
            return None  # an unknown name or a POP3 account: the full path deals with it
        return {name: account for name, account in chosen.items() if account is not None}

    def config(self) -> LoadedConfig:
        """The validated config file (read once; its warnings printed once)."""
        if self._loaded is not None:
            return self._loaded
        from tuimail.config import load_config

        loaded = load_config(self._existing_file())
        self._warn(loaded.warnings)
        self._loaded = loaded
        return loaded

    def _existing_file(self) -> Path:
        path = self.config_file()
        if not path.exists():
            raise ConfigError(
                f"no config file at {path}; run `tuimail account add` to set up an account, "
                "or `tuimail --demo` to try it"
            )
        return path

    def _warn(self, warnings: list[str]) -> None:
        if not self._warned:
            for warning in warnings:
                click.echo(f"tuimail: warning: {warning}", err=True)
        self._warned = True


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine."""
    import asyncio

    return asyncio.run(coro)


async def with_store(readonly: bool, action: Callable[[Store], Coroutine[Any, Any, T]]) -> T:
    """Open the store, run ``action``, close the store."""
    from tuimail import paths
    from tuimail.store.db import open_store

    store = await open_store(paths.store_file(), readonly=readonly)
    try:
        return await action(store)
    finally:
        await store.close()


def split_target(target: str) -> tuple[str, str | None]:
    """``ACCOUNT[/FOLDER]`` -> (account, folder or None); folder names may contain '/'."""
    account, _, folder = target.partition("/")
    if not account:
        raise click.BadParameter(f"{target!r} is not ACCOUNT or ACCOUNT/FOLDER")
    return account, folder or None


def interactive() -> bool:
    """A terminal on both ends: the setup form can be shown."""
    return sys.stdin.isatty() and sys.stdout.isatty()
