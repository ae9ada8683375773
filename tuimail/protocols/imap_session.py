"""One IMAP session's command loop: tags, arguments and literals, untagged responses, events.

Commands run one at a time. Untagged responses that the running command does not claim are
read here: CAPABILITY updates the capabilities, BYE is remembered for the error that follows,
and EXISTS, EXPUNGE, VANISHED and FETCH with flags become events for the sync engine. Nothing
in this module ever sees a password in a form it could log: commands are logged from the
``shown`` text their caller writes, with secrets already replaced.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from tuimail.errors import ConnectionLost, ProtocolError
from tuimail.protocols.imap_parse import (
    MalformedResponse,
    StatusText,
    Untagged,
    parse_event,
    parse_status_text,
    parse_tagged,
    parse_untagged,
)
from tuimail.protocols.imap_records import ServerEvent
from tuimail.protocols.imap_wire import ImapWire
from tuimail.protocols.server_text import clean_server_text

log = logging.getLogger("tuimail.protocols.imap")

# Claims an untagged response for the running command; False leaves it to the session.
Collector = Callable[[bytes], bool]

_QUOTABLE: Final = re.compile(rb"[\x01-\x09\x0b\x0c\x0e-\x7f]*+")
_NON_SYNC_LITERAL_MAX = 4096  # RFC 7888 LITERAL-: larger literals must wait for "+"
# Untagged responses one command may bring that it did not ask for. Each is legal (news about
# the mailbox), but a server sending them without end would hold the command open for ever,
# and EXISTS or FETCH news would fill memory. A million is far above a mass flag change by
# another client on a 100k-message folder.
MAX_UNCLAIMED = 1_000_000
# Responses one command may claim (LIST lines, SEARCH lines, FETCHes): far more than any real
# mailbox sends, and the end of a server that streams them without end.
MAX_CLAIMED = 1_000_000


@dataclass(frozen=True, slots=True)
class Literal:
    """An argument sent as ``{n}`` and n bytes: 8-bit text, line breaks, message bodies."""

    data: bytes


Argument = bytes | Literal


def astring(value: str | bytes) -> Argument:
    """An argument as a quoted string, or as a literal when quoting cannot carry it."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    if b"\0" in data:
        raise ValueError("IMAP arguments cannot contain NUL characters")
    if _QUOTABLE.fullmatch(data) is not None:
        return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return Literal(data)


class ImapSession:
    """The command loop over one ``ImapWire``."""

    def __init__(self, wire: ImapWire) -> None:
        self.wire = wire
        self.label = wire.label
        self.capabilities: frozenset[str] = frozenset()
        self.enabled: set[str] = set()  # extensions switched on (ENABLE, or CONDSTORE by use)
        self.events: list[ServerEvent] = []
        self.uidnext: int | None = None  # of the selected folder: bounds VANISHED ranges
        self._tags = 0
        self._busy: str | None = None
        self._bye: str | None = None
        self.unclaimed = 0  # untagged responses the running command did not ask for
        self.claimed = 0  # untagged responses the running command took

    @contextlib.contextmanager
    def exclusive(self, command: str) -> Iterator[None]:
        """Run one command at a time and turn parse failures into one-line errors."""
        if self._busy is not None:
            # A second command now would read the responses that belong to the first.
            raise RuntimeError(f"ImapClient is busy with {self._busy}; cannot start {command}")
        if not self.wire.is_open:
            raise self._closed_error()
        self._busy = command
        self.unclaimed = self.claimed = 0
        try:
            yield
        except MalformedResponse as error:
            raise ProtocolError(
                f"IMAP server {self.label} sent a malformed response to {command}: {error}"
            ) from error
        except ConnectionLost as error:
            if self._bye is not None:
                raise self._closed_error() from error
            raise
        finally:
            self._busy = None

    def _closed_error(self) -> ConnectionLost:
        if self._bye is not None:
            return ConnectionLost(f"IMAP server {self.label} closed the connection: {self._bye}")
        return ConnectionLost(f"the connection to IMAP server {self.label} is closed")

    def take_events(self) -> list[ServerEvent]:
        """The events gathered since the last call, oldest first."""
        events, self.events = self.events, []
        return events

    # Sending

    def next_tag(self) -> bytes:
        """A fresh command tag."""
        self._tags += 1
        return b"T%d" % self._tags

    async def send(
        self, tag: bytes, arguments: Sequence[Argument], shown: str, collect: Collector | None
    ) -> tuple[str, StatusText] | None:
        """Send one command; a tagged reply that arrives instead of a "+" is returned."""
        log.debug("C: %s %s", tag.decode(), shown)
        line = bytearray(tag)
        for argument in arguments:
            line += b" "
            if isinstance(argument, bytes):
                if b"\r" in argument or b"\n" in argument:
                    # Arguments are built by us; this guards against smuggling a second command.
                    raise ValueError("an IMAP command argument contains a line break")
                line += argument
                continue
            size = len(argument.data)
            non_sync = "LITERAL+" in self.capabilities or (
                "LITERAL-" in self.capabilities and size <= _NON_SYNC_LITERAL_MAX
            )
            line += b"{%d+}\r\n" % size if non_sync else b"{%d}\r\n" % size
            self.wire.send(bytes(line))
            line.clear()
            if not non_sync and (refusal := await self.wait_continuation(tag, collect)) is not None:
                return refusal
            self.wire.send(argument.data)
            await self.wire.drain()
        line += b"\r\n"
        self.wire.send(bytes(line))
        return None

    async def wait_continuation(
        self, tag: bytes, collect: Collector | None = None
    ) -> tuple[str, StatusText] | None:
        """Wait for the server's "+"; a tagged reply that comes instead is returned."""
        while True:
            response = await self.wire.read_response()
            if response[:1] == b"+":
                return None
            if response.startswith(tag + b" "):
                return parse_tagged(response, tag)
            self.dispatch(response, collect)

    # Reading

    async def command(
        self,
        arguments: Sequence[Argument],
        shown: str,
        collect: Collector | None = None,
    ) -> StatusText:
        """Run a command; ProtocolError unless the server answers OK."""
        status, text = await self.command_status(arguments, shown, collect)
        if status != "OK":
            raise self.refused(shown, status, text)
        return text

    async def command_status(
        self,
        arguments: Sequence[Argument],
        shown: str,
        collect: Collector | None = None,
    ) -> tuple[str, StatusText]:
        """Run a command and return its tagged status ("OK", "NO", "BAD") and text."""
        tag = self.next_tag()
        refusal = await self.send(tag, arguments, shown, collect)
        if refusal is not None:
            return refusal
        return await self.finish(tag, collect)

    async def finish(self, tag: bytes, collect: Collector | None = None) -> tuple[str, StatusText]:
        """Read responses until the tagged one for ``tag``."""
        prefix = tag + b" "
        while True:
            response = await self.wire.read_response()
            if response.startswith(prefix):
                status, text = parse_tagged(response, tag)
                log.debug("S: %s %s %s", tag.decode(), status, text.text)
                return status, text
            self.dispatch(response, collect)

    async def stream(
        self, arguments: Sequence[Argument], shown: str
    ) -> AsyncGenerator[list[bytes], None]:
        """Send a command and yield its untagged responses, a buffer-full at a time, until its
        tagged OK. Use it inside ``contextlib.aclosing``: left early, it reads and drops the
        rest so the session stays usable.
        """
        wire = self.wire
        tag = self.next_tag()
        prefix = tag + b" "
        refusal = await self.send(tag, arguments, shown, None)
        if refusal is not None:
            raise self.refused(shown, *refusal)
        finished = False
        try:
            while True:
                # Handing over every complete response at once keeps the per-message cost
                # of a 100k header sync to a list append, not an await. More may have come
                # while the caller worked on the last batch, so cut before waiting.
                batch = wire.next_responses()
                if not batch:
                    await wire.fill()
                    continue
                tagged: bytes | None = None
                after: list[bytes] = []  # news the server sent after finishing our command
                for index, response in enumerate(batch):
                    if response[:2] != b"* ":
                        if not response.startswith(prefix):
                            self.dispatch(response)  # raises: a stray continuation or tag
                        tagged, after = response, batch[index + 1 :]
                        del batch[index:]
                        break
                finished = tagged is not None
                if batch:
                    yield batch
                if tagged is not None:
                    for response in after:
                        self.dispatch(response)
                    status, text = parse_tagged(tagged, tag)
                    if status != "OK":
                        raise self.refused(shown, status, text)
                    return
        except GeneratorExit:
            if not finished and wire.is_open:
                await self.finish(tag, _drop_fetch)
            raise
        except BaseException:
            if not finished:
                wire.abort()  # we no longer know where the next response starts
            raise

    async def enable(self, *capabilities: str) -> frozenset[str]:
        """ENABLE those of ``capabilities`` the server advertises; returns what it enabled."""
        wanted = [name.upper() for name in capabilities if name.upper() in self.capabilities]
        if not wanted or "ENABLE" not in self.capabilities:
            return frozenset()
        enabled: set[str] = set()

        def collect(response: bytes) -> bool:
            untagged = parse_untagged(response)
            if untagged.kind != "ENABLED":
                return False
            enabled.update(untagged.rest.decode("ascii", "replace").upper().split())
            return True

        with self.exclusive("ENABLE"):
            arguments = [b"ENABLE", *(name.encode("ascii") for name in wanted)]
            await self.command(arguments, f"ENABLE {' '.join(wanted)}", collect)
        if "QRESYNC" in enabled:
            enabled.add("CONDSTORE")  # RFC 7162 3.2.3: QRESYNC implies CONDSTORE
        self.enabled |= enabled
        return frozenset(enabled)

    def dispatch(self, response: bytes, collect: Collector | None = None) -> None:
        """Hand an untagged response to the command, or read it as session news."""
        if response[:2] != b"* ":
            self.wire.abort()
            raise ProtocolError(
                f"IMAP server {self.label} sent an unexpected response "
                f"{clean_server_text(response, 60)!r}; connection closed"
            )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("S: %s", clean_server_text(response, 200))
        if collect is not None and collect(response):
            self.count_claimed()
            return
        self.count_unclaimed()
        self.unsolicited(parse_untagged(response))

    def count_unclaimed(self) -> None:
        """Count a response the running command did not ask for; too many end the session."""
        self.unclaimed += 1
        if self.unclaimed > MAX_UNCLAIMED:
            self.wire.abort()
            raise ProtocolError(
                f"IMAP server {self.label} sent more than {MAX_UNCLAIMED:,} responses nobody "
                f"asked for during {self._busy or 'a command'}; connection closed"
            )

    def count_claimed(self, count: int = 1) -> None:
        """Count responses the running command took; a server that never stops ends the session."""
        self.claimed += count
        if self.claimed > MAX_CLAIMED:
            self.wire.abort()
            raise ProtocolError(
                f"IMAP server {self.label} sent more than {MAX_CLAIMED:,} responses to "
                f"{self._busy or 'a command'}; connection closed"
            )

    def unsolicited(self, untagged: Untagged) -> None:
        """Take note of an untagged response that no command asked for."""
        kind = untagged.kind
        if kind in ("EXISTS", "EXPUNGE", "VANISHED", "FETCH"):
            if (event := parse_event(untagged, below=self.uidnext)) is not None:
                self.events.append(event)
        elif kind == "CAPABILITY":
            self.capabilities = parse_capabilities(untagged.rest)
        elif kind in ("OK", "NO", "BAD", "BYE", "PREAUTH"):
            text = parse_status_text(untagged.rest)
            if text.code == "CAPABILITY" and text.arg is not None:
                self.capabilities = parse_capabilities(text.arg)
            if kind == "BYE":
                self._bye = text.text or "no reason given"
            elif text.code == "ALERT":
                log.warning("IMAP server %s says: %s", self.label, text.text)

    def refused(self, shown: str, status: str, text: StatusText) -> ProtocolError:
        """The error for a NO or BAD answer."""
        words = shown.split(" ", 2)
        verb = " ".join(words[:2]) if words[0] == "UID" and len(words) > 1 else words[0]
        reason = text.text or "no reason given"
        if text.code is not None:
            reason = f"{reason} [{text.code}]"
        what = "refused" if status == "NO" else "did not understand"
        return ProtocolError(f"IMAP server {self.label} {what} {verb}: {reason}")


def _drop_fetch(response: bytes) -> bool:
    """Claim the FETCH responses of a command we stopped reading: they are not news."""
    return response.startswith(b"* ") and b" FETCH " in response[:24]


def parse_capabilities(raw: bytes) -> frozenset[str]:
    """The capability names of a CAPABILITY response, in upper case."""
    return frozenset(word.decode("ascii", "replace").upper() for word in raw.split())
