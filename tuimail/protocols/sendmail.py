"""Submission through a local program (msmtp, sendmail): the message on standard input, the
envelope recipients as arguments after ``--``, as mutt and aerc pass them.

The envelope is ours, never the headers: the stored message has no Bcc header (Bcc recipients
are only in the envelope), and a retry for the recipients a server deferred must not go to
everyone again. So a ``-t`` (read recipients from the headers) in the command is dropped.
The message goes with Unix line ends, the local convention every sendmail reads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tuimail.protocols import program
from tuimail.protocols.server_text import clean_server_text
from tuimail.protocols.smtp import PermanentSendError, SendResult, TemporarySendError

log = logging.getLogger(__name__)

TIMEOUT = 120.0
_FROM_HEADERS = frozenset({"-t", "--read-recipients"})


def command_line(command: Sequence[str], recipients: Sequence[str]) -> list[str]:
    """The argument list for ``recipients``: the user's command without ``-t``, then ``--``."""
    return [word for word in command if word not in _FROM_HEADERS] + ["--", *recipients]


async def send(
    command: Sequence[str], raw: bytes, recipients: Sequence[str], *, timeout: float = TIMEOUT
) -> SendResult:
    """Hand ``raw`` to the program for ``recipients``; an exit status 0 means it took the message.

    Any other outcome is a TemporarySendError naming the command and its first error line.
    """
    if not recipients:
        raise PermanentSendError("the message has no recipients")
    name = command[0]
    argv = command_line(command, recipients)
    log.debug("handing the message to %s for %d recipients", name, len(recipients))
    try:
        finished = await program.run(argv, raw.replace(b"\r\n", b"\n"), timeout)
    except TimeoutError:
        raise TemporarySendError(f"{name} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise TemporarySendError(f"cannot run {name}: {exc.strerror or exc}") from None
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.splitlines() if line.strip()]
        reason = f": {clean_server_text(lines[0])}" if lines else ""
        status = finished.returncode
        raise TemporarySendError(f"{name} failed with exit status {status}{reason}")
    log.info("%s took the message for %d recipients", name, len(recipients))
    return SendResult(accepted=tuple(recipients))
