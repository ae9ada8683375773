"""tuimail(1): the man page made from the click command tree (the text of ``--help``) and the
key table, so the page says what the program does and cannot drift from it."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import click

from tuimail import keytable
from tuimail.commands import roff
from tuimail.commands.common import EXIT_CONFIG, EXIT_ERROR, EXIT_INTERNAL

_FILES = (
    (
        "~/.config/tuimail/config.toml",
        "The config file (see tuimail-config(5)); --config or TUIMAIL_CONFIG name another.",
    ),
    ("~/.config/tuimail/themes/", "Your own themes, one NAME.toml each."),
    ("~/.local/share/tuimail/mail.sqlite3", "The store: folders, headers, bodies, the outbox."),
    ("~/.local/share/tuimail/tuimail.log", "The log: the trace behind each one-line error."),
)
_ENVIRONMENT = (
    ("TUIMAIL_CONFIG", "The config file, as --config."),
    ("TUIMAIL_DATA_DIR", "The directory of the store and the log."),
    ("VISUAL, EDITOR", "The editor that Ctrl+G opens in the composer (default vi)."),
    ("SHELL", "The shell that runs a command a message is piped to."),
)
_EXIT_STATUS = (
    ("0", "Success."),
    (str(EXIT_ERROR), "An error, told in one line on standard error."),
    (str(EXIT_CONFIG), "The config file is missing or wrong."),
    (str(EXIT_INTERNAL), "An internal error; the log file holds the trace."),
)


def page(root: click.Group) -> str:
    """The roff source of tuimail(1) for the command tree under ``root``."""
    ctx = click.Context(root, info_name="tuimail")
    lines = [
        roff.macro("TH", "TUIMAIL", "1", "", f"tuimail {version('tuimail')}", "User Commands"),
        ".SH NAME",
        "tuimail \\- a keyboard\\-driven terminal email client",
        ".SH SYNOPSIS",
        _synopsis(root, ctx),
        ".SH DESCRIPTION",
        *_help_text(root),
        ".SH OPTIONS",
        *_options(root, ctx, keep_help=True),
        ".SH COMMANDS",
        *_commands(root, ctx),
        ".SH KEYS",
        *roff.text_lines(
            "The keys of the terminal interface, by where they apply; ? shows the same table "
            "in the app. The id in brackets is the name to give a key in [ui.keys] of the "
            "config file (tuimail-config(5))."
        ),
        *_keys(),
        ".SH FILES",
        *_table(_FILES),
        ".SH ENVIRONMENT",
        *_table(_ENVIRONMENT),
        ".SH EXIT STATUS",
        *_table(_EXIT_STATUS),
        ".SH SEE ALSO",
        ".BR tuimail\\-config (5)",
    ]
    return "\n".join(lines) + "\n"


def _synopsis(command: click.Command, ctx: click.Context) -> str:
    pieces = " ".join(command.collect_usage_pieces(ctx))
    return f"\\fB{roff.escape(ctx.command_path)}\\fR {roff.escape(pieces)}"


def _help_text(command: click.Command) -> list[str]:
    text = inspect.cleandoc(command.help or "").split("\f")[0]
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n\n")):
        if paragraph.startswith("\b\n"):  # click's "do not rewrap this paragraph"
            lines += roff.verbatim(paragraph.splitlines()[1:])
            continue
        if number:
            lines.append(".PP")
        lines += roff.text_lines(paragraph)
    return lines


def _options(command: click.Command, ctx: click.Context, keep_help: bool = False) -> list[str]:
    # Arguments are in the synopsis; --help is said once, for tuimail itself.
    skip = None if keep_help else command.get_help_option(ctx)
    lines: list[str] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or param is skip or isinstance(param, click.Argument):
            continue
        names, help_text = record
        lines += [".TP", f"\\fB{roff.escape(names)}\\fR", *roff.text_lines(help_text)]
    return lines


def _commands(group: click.Group, parent: click.Context) -> list[str]:
    lines: list[str] = []
    for name in group.list_commands(parent):
        command = group.get_command(parent, name)
        if command is None or command.hidden:
            continue
        ctx = click.Context(command, info_name=name, parent=parent)
        if isinstance(command, click.Group):
            lines += _commands(command, ctx)
            continue
        lines += [roff.macro("SS", ctx.command_path), _synopsis(command, ctx), ".PP"]
        lines += _help_text(command)
        options = _options(command, ctx)
        if options:
            lines += [".PP", "Options:", ".RS", *options, ".RE"]
    return lines


def _keys() -> list[str]:
    from tuimail.ui.keys import key_label  # the names ? help shows (Textual loads with it)

    lines: list[str] = []
    for scope, title in keytable.SCOPE_TITLES.items():
        lines += [roff.macro("SS", title), ".PD 0"]  # one line a key, no space between
        for entry in keytable.ACTIONS:
            if scope not in entry.scopes:
                continue
            later = "" if entry.ready else " (arrives in a later version)"
            lines += [
                ".TP",
                f"\\fB{roff.escape(key_label(entry.keys))}\\fR",
                *roff.text_lines(f"{entry.description}{later} [{entry.id}]"),
            ]
        lines.append(".PD")
    return lines


def _table(rows: tuple[tuple[str, str], ...]) -> list[str]:
    lines: list[str] = []
    for term, description in rows:
        lines += [".TP", f"\\fB{roff.escape(term)}\\fR", *roff.text_lines(description)]
    return lines
