"""Telling the user about new mail outside the window: the terminal bell, a desktop
notification through the terminal (OSC 777 or OSC 9, which reach the user's own machine over
SSH) and the user's ``on_new_mail_command``.

The sender and subject come from strangers. In an escape sequence they are cut down to
printable characters (no ESC, BEL or C1 control can end the sequence early or start another)
and a bounded length; the command gets them in its environment, never in its command line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess

from textual.app import App

from tuimail.config import UIConfig
from tuimail.sync.interface import NewMail

log = logging.getLogger(__name__)

TITLE_LIMIT = 80
BODY_LIMIT = 200
ENV_LIMIT = 1000
BEL = "\a"
ST = "\x1b\\"


def terminal_field(text: str, limit: int) -> str:
    """``text`` fit for one field of an escape sequence: printable characters only (controls,
    format characters and odd spaces become spaces), one line, at most ``limit`` characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    words = " ".join(printable.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def describe(news: NewMail) -> tuple[str, str]:
    """A notification's title and body: how many and where; the newest's sender and subject."""
    plural = "s" if news.count != 1 else ""
    title = f"{news.count} new message{plural} in {news.account}/{news.folder}"
    body = f"{news.sender}: {news.subject}" if news.sender else news.subject
    return terminal_field(title, TITLE_LIMIT), terminal_field(body, BODY_LIMIT)


def sequences(kind: str, news: NewMail) -> str:
    """The escape sequences ``[ui] notify`` asks for (``osc777``, ``osc9``, both or none)."""
    title, body = describe(news)
    out = ""
    if kind in ("osc777", "both"):
        # Fields are separated by ';': the title must not hold one (the body is the rest).
        out += f"\x1b]777;notify;{title.replace(';', ',')};{body}{ST}"
    if kind in ("osc9", "both"):
        # One text; it starts with "tuimail" so that no sender can make it read "4;..."
        # (a progress bar in Windows Terminal and ConEmu).
        out += f"\x1b]9;{terminal_field(f'tuimail: {title}: {body}', BODY_LIMIT)}{BEL}"
    return out


def command_environment(news: NewMail) -> dict[str, str]:
    """The environment ``on_new_mail_command`` runs with: ours plus the TUIMAIL_* values."""
    values = {
        "TUIMAIL_NEW_COUNT": str(news.count),
        "TUIMAIL_NEW_FROM": news.sender,
        "TUIMAIL_NEW_SUBJECT": news.subject,
        "TUIMAIL_ACCOUNT": news.account,
        "TUIMAIL_FOLDER": news.folder,
    }
    return {**os.environ, **{k: terminal_field(v, ENV_LIMIT) for k, v in values.items()}}


async def run_command(command: str, news: NewMail) -> None:
    """Run the user's command through the shell as written, the mail in its environment only;
    a failure is one line in the log."""
    try:
        process = await asyncio.create_subprocess_shell(
            command,
            env=command_environment(news),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a ^C in the interface is not for it
        )
        _out, err = await process.communicate()
    except OSError as exc:
        log.warning("on_new_mail_command could not start: %s", exc.strerror or exc)
        return
    if process.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        log.warning(
            "on_new_mail_command exited with %s: %s",
            process.returncode,
            terminal_field(last[0], 200),
        )


def tell(app: App[object], ui: UIConfig, news: NewMail) -> None:
    """Ring, notify and run the command for one report of new mail, as ``ui`` asks."""
    out = (BEL if ui.bell else "") + sequences(ui.notify, news)
    driver = app._driver  # as App.bell and copy_to_clipboard write: whole, between frames
    if out and driver is not None:
        driver.write(out)
    if ui.on_new_mail_command:
        app.run_worker(
            run_command(ui.on_new_mail_command, news),
            group="new-mail-command",
            description="running on_new_mail_command",
            exit_on_error=False,
        )
