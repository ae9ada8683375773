"""Accounts: ``doctor`` and ``account add``."""

from __future__ import annotations

import sys

import click

from tuimail.commands.common import EXIT_ERROR, Context, fail, interactive, run
from tuimail.commands.completing import complete_account
from tuimail.errors import ConfigError, NotAllowed


@click.command("doctor")
@click.argument("account", required=False, shell_complete=complete_account)
@click.pass_obj
def doctor_command(obj: Context, account: str | None) -> None:
    """Check ACCOUNT's servers (default: every account) step by step, with a fix per failure.

    One line per check: config, DNS, TCP, TLS or STARTTLS, login, folders. Exits 1 if any
    check failed. Nothing is written to the store and no password is printed.
    """
    from tuimail.mail.sanitize import sanitize_line
    from tuimail.sync.doctor import Check, diagnose

    path = obj.config_file()
    if not path.exists():
        click.echo(f"config   FAIL  no config file at {path}")
        click.echo(
            "         fix:  run `tuimail account add` (or `tuimail --demo` to try tuimail first)"
        )
        sys.exit(EXIT_ERROR)
    try:
        loaded = obj.config()
    except ConfigError as exc:
        click.echo(f"config   FAIL  {exc}")
        click.echo("         fix:  correct the key named above (the README lists every key)")
        sys.exit(EXIT_ERROR)

    def report(check: Check) -> None:
        where = f"{check.account} {check.server}"
        verdict = "ok  " if check.ok else "FAIL"
        click.echo(sanitize_line(f"{where:<16} {check.name:<8} {verdict}  {check.detail}"))
        if not check.ok:
            click.echo(sanitize_line(f"{'':<16} {'':<8} fix:  {check.fix}"))

    if not run(diagnose(loaded, [account] if account else None, report)):
        sys.exit(EXIT_ERROR)


@click.group("account")
def account_group() -> None:
    """Set up accounts."""


@account_group.command("add")
@click.option("--email", default="", help="Fill in the address.")
@click.option("--name", "name", default="", help="The account's name (default: from the domain).")
@click.pass_obj
def account_add(obj: Context, email: str, name: str) -> None:
    """Open the setup form: find the servers, test the login, save the account.

    The password goes to the system keyring (or you give a password command); the config file
    gets the rest, and stays readable by you alone.
    """
    path = obj.config_file()
    if name and path.exists() and name in obj.config().accounts:
        raise NotAllowed(f"an account named {name!r} already exists in {path}")
    if not interactive():
        fail("`tuimail account add` shows a form: run it in a terminal")
    from tuimail.ui.screens.setup import FormValues
    from tuimail.ui.setup_app import run_setup

    added = run_setup(path, FormValues(email=email, account=name))
    if added is None:
        fail("no account was added")
    click.echo(f"added account {added} to {path}; `tuimail doctor {added}` checks it again")
