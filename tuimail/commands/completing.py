"""``tuimail completion SHELL`` and what completes an ACCOUNT or ACCOUNT/FOLDER argument.

The scripts are click's: the shell runs ``tuimail`` again with ``_TUIMAIL_COMPLETE`` set, and
click answers from the same command tree that ``--help`` shows.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash: eval "$(tuimail completion bash)"     in ~/.bashrc
    zsh:  eval "$(tuimail completion zsh)"      in ~/.zshrc
    fish: tuimail completion fish > ~/.config/fish/completions/tuimail.fish
    """
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    assert complete is not None  # every name in SHELLS is one of click's
    click.echo(complete(ctx.find_root().command, {}, "tuimail", "_TUIMAIL_COMPLETE").source())


def complete_account(ctx: click.Context, _param: click.Parameter, typed: str) -> list[str]:
    """The configured account names that start with what is typed."""
    return [name for name in _account_names(ctx) if name.startswith(typed)]


def complete_target(ctx: click.Context, _param: click.Parameter, typed: str) -> list[str]:
    """ACCOUNT/ and ACCOUNT/INBOX for each account that fits: the shell completes up to the
    slash, and the folder is typed (the store is not opened for a key press)."""
    choices = [choice for name in _account_names(ctx) for choice in (f"{name}/", f"{name}/INBOX")]
    return [choice for choice in choices if choice.startswith(typed)]


def _account_names(ctx: click.Context) -> list[str]:
    # The plain TOML read, not the models: a completion answers while the user types.
    from tuimail import paths
    from tuimail.config_plain import read_toml
    from tuimail.errors import ConfigError

    path = ctx.find_root().params.get("config_path") or paths.config_file()
    try:
        accounts = read_toml(path).get("accounts", {})
    except (ConfigError, OSError):
        return []
    return sorted(accounts) if isinstance(accounts, dict) else []
