"""The command line: parses arguments, calls the services, prints. No protocol or SQL here."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from tuimail import signals
from tuimail.commands import contacts, importing, reading, sending, setup, syncing
from tuimail.commands.common import EXIT_CONFIG, EXIT_INTERNAL, Context, fail, interactive
from tuimail.commands.completing import completion_command
from tuimail.commands.helping import help_group
from tuimail.errors import ConfigError, TuimailError

# Each command imports the store and the services it needs when it runs: the interface, the
# most used command, starts without loading the protocol clients, and `--version` (answered
# while the options are parsed) loads click and little else.

log = logging.getLogger("tuimail")
# doctor reports the config as its first check; account add may be the one to create the file.
_OWN_CONFIG_CHECK = ("doctor", "account")
# The man pages and completion scripts say what tuimail is, whatever the config file holds.
_NO_CONFIG = ("help", "completion")
_HELP_ASKED = "tuimail.help_asked"


class _Cli(click.Group):
    """Turns tuimail errors into one line and an exit status; traces go to the log file."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        # `tuimail list --help` answers without a config file, as `--help` alone does.
        ctx.meta[_HELP_ASKED] = command is not None and bool(
            set(rest) & set(command.get_help_option_names(ctx))
        )
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with signals.on_signals():  # SIGHUP, SIGTERM: cleaned up like Ctrl-C
                return super().invoke(ctx)
        except ConfigError as exc:
            log.info("config error: %s", exc)
            fail(str(exc), EXIT_CONFIG)
        except TuimailError as exc:
            log.info("error: %s", exc, exc_info=True)
            fail(str(exc))
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except BrokenPipeError:
            # `tuimail list ... | head -1`: the reader has what it wanted. click leaves quietly
            # (status 1) and keeps Python's last flush from complaining.
            raise
        except KeyboardInterrupt:
            fail(*signals.stopped_message())
        except Exception as exc:  # the last line of defence: never a traceback on screen
            from tuimail import paths

            log.exception("internal error")
            fail(
                f"internal error ({type(exc).__name__}); details in {paths.log_file()}",
                EXIT_INTERNAL,
            )


@click.group(cls=_Cli, invoke_without_command=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="TUIMAIL_CONFIG",
    help="Config file (default ~/.config/tuimail/config.toml).",
)
@click.option("--demo", is_flag=True, help="Try tuimail on embedded demo servers.")
@click.option("--debug", is_flag=True, help="Write debug records to the log file.")
@click.version_option(package_name="tuimail")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, demo: bool, debug: bool) -> None:
    """tuimail: a keyboard-driven terminal email client.

    Without a command it opens the terminal interface.
    """
    from tuimail.logs import setup_logging

    level = logging.DEBUG if debug else logging.INFO
    if demo and ctx.invoked_subcommand is None:
        # The demo logs into its own temporary data dir: nothing of the user's is touched.
        from tuimail.demo.run import run_demo

        run_demo(level)
        return
    setup_logging(level)
    ctx.obj = Context(config_path, debug)
    if ctx.invoked_subcommand in _OWN_CONFIG_CHECK + _NO_CONFIG or ctx.meta.get(_HELP_ASKED):
        return
    if ctx.invoked_subcommand is not None:
        # Every command refuses a broken config file alike, before it touches anything.
        ctx.obj.check_config()
        return
    from tuimail.ui.app import run_app

    if not ctx.obj.config_file().exists() and interactive():
        # First run: the setup form instead of an error, then the mail it set up.
        from tuimail.ui.setup_app import run_setup

        if run_setup(ctx.obj.config_file()) is None:
            click.echo("no account was set up; `tuimail account add` opens the form again")
            return
    run_app(ctx.obj.config())


for _command in (
    reading.list_command,
    reading.read_command,
    reading.export_command,
    importing.import_command,
    syncing.sync_command,
    syncing.folder_group,
    sending.send_command,
    sending.outbox_command,
    sending.drafts_command,
    contacts.contacts_command,
    setup.doctor_command,
    setup.account_group,
    help_group,
    completion_command,
):
    main.add_command(_command)
