"""``tuimail help man``: the man pages, printed as roff for ``man -l`` or a packager."""

from __future__ import annotations

import click

# What `tuimail help man PAGE` accepts: the section number, the page's name or a short name.
_PAGES = {
    "1": "tuimail",
    "tuimail": "tuimail",
    "5": "config",
    "tuimail-config": "config",
    "config": "config",
}


@click.group("help")
def help_group() -> None:
    """Documentation: the man pages."""


@help_group.command("man")
@click.argument("page", type=click.Choice(list(_PAGES)), default="tuimail", metavar="PAGE")
@click.pass_context
def man_command(ctx: click.Context, page: str) -> None:
    """Print a man page as roff: tuimail(1) by default, or tuimail-config(5) (PAGE 5 or config).

    Read one with `tuimail help man config | man -l -`.
    """
    root = ctx.find_root().command
    if _PAGES[page] == "config":
        from tuimail.commands import man_config

        click.echo(man_config.page(), nl=False)
        return
    from tuimail.commands import man_tuimail

    assert isinstance(root, click.Group)
    click.echo(man_tuimail.page(root), nl=False)
