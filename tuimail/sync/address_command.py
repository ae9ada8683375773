"""``[ui] address_book_command``: a mutt ``query_command`` (khard, abook, notmuch-addrlookup)
asked for the addresses matching what the user typed.

The typed text becomes one argument where the command says ``%s`` (appended when it does not),
never part of a shell line. The answer follows mutt's convention: a first line of free text,
then one line per address, ``address<TAB>name<TAB>anything``. Lines that are not like that
are skipped; what is kept is made safe to show.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tuimail.config_plain import EMAIL, command_words
from tuimail.mail.sanitize import sanitize_line
from tuimail.mail.vcard import Contact
from tuimail.protocols import program

log = logging.getLogger(__name__)


def query_argv(command: str, text: str) -> list[str]:
    """The command's arguments with ``%s`` replaced by ``text`` (one argument, never split)."""
    words = command_words(command)
    if not any("%s" in word for word in words):
        return [*words, text]
    return [word.replace("%s", text) for word in words]


def parse_query_output(out: bytes) -> list[Contact]:
    """The addresses of a mutt query answer (its first line is a message, not an address)."""
    found: list[Contact] = []
    for line in out.decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split("\t")
        email = sanitize_line(fields[0]).strip()
        name = sanitize_line(fields[1]).strip() if len(fields) > 1 else ""
        if EMAIL.match(email) and len(email) <= 254:
            found.append(Contact(name, email))
    return found


async def query(command: str, text: str, timeout: float) -> list[Contact]:
    """Ask the command for ``text``; TimeoutError after ``timeout`` (the command killed).

    A command that cannot run, or exits non-zero with nothing to say, finds nobody.
    """
    argv: Sequence[str] = query_argv(command, text)
    try:
        finished = await program.run(argv, None, timeout)
    except OSError as exc:
        log.warning("address_book_command cannot run: %s", exc.strerror or exc)
        return []
    found = parse_query_output(finished.stdout)
    if finished.returncode != 0 and not found:  # mutt's convention for "no match"
        return []
    return found
