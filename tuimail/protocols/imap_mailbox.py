"""Folder commands (LIST, SELECT, STATUS, CREATE...) and the parsing of their replies.

The rules (which flag makes which role, what a SELECT must report) are pure functions, tested
without a server; the commands take folder arguments already spelled for the wire.
"""

from __future__ import annotations

from typing import Final

from tuimail.errors import MessageNotFound, ProtocolError
from tuimail.mail.sanitize import sanitize_line
from tuimail.protocols.imap_parse import (
    MalformedResponse,
    StatusText,
    decode_atoms,
    parse_event,
    parse_flag_fetch,
    parse_list,
    parse_status,
    parse_status_text,
    parse_uid_set,
    parse_untagged,
    parse_values,
)
from tuimail.protocols.imap_records import (
    FlagRecord,
    FolderInfo,
    FolderStatus,
    Role,
    SelectedState,
    Vanished,
)
from tuimail.protocols.imap_session import Argument, Collector, ImapSession
from tuimail.protocols.imap_utf7 import decode_mailbox

# RFC 6154 special-use attributes, and the role each gives a folder.
SPECIAL_USE: Final[dict[str, Role]] = {
    "\\sent": "sent",
    "\\drafts": "drafts",
    "\\trash": "trash",
    "\\junk": "junk",
    "\\archive": "archive",
}
# Response codes of SELECT that describe the folder; others (ALERT, CAPABILITY) are news.
_SELECT_CODES = frozenset(
    {"UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ", "NOMODSEQ", "PERMANENTFLAGS", "UNSEEN", "CLOSED"}
)


def folder_info(
    flags: frozenset[str], delimiter: str | None, raw_name: str, subscribed: bool
) -> FolderInfo:
    """A LIST entry as a FolderInfo; ``subscribed`` is the LSUB verdict (\\Subscribed wins)."""
    try:
        name = decode_mailbox(raw_name)
    except ValueError:
        name = raw_name  # not modified UTF-7 (some servers send UTF-8): show it as it is
    name = sanitize_line(name)
    lowered = {flag.lower() for flag in flags}
    role: Role | None = "inbox" if raw_name.upper() == "INBOX" else None
    if role is None:
        role = next((SPECIAL_USE[flag] for flag in sorted(lowered) if flag in SPECIAL_USE), None)
    return FolderInfo(
        name="INBOX" if role == "inbox" else name,
        raw_name=raw_name,
        delimiter=delimiter,
        flags=flags,
        role=role,
        subscribed=subscribed or "\\subscribed" in lowered,
    )


def select_collector(responses: list[bytes]) -> Collector:
    """Claim the untagged responses that describe the folder being selected."""

    def collect(response: bytes) -> bool:
        untagged = parse_untagged(response)
        if untagged.kind in ("OK", "NO", "BAD"):
            if parse_status_text(untagged.rest).code not in _SELECT_CODES:
                return False
        elif untagged.kind not in ("FLAGS", "EXISTS", "RECENT", "VANISHED", "FETCH"):
            return False
        responses.append(response)
        return True

    return collect


def parse_select(name: str, responses: list[bytes], tagged: StatusText) -> SelectedState:
    """The SelectedState that a SELECT's untagged responses and tagged OK describe."""
    exists: int | None = None
    counters: dict[str, int] = {}
    flags: frozenset[str] = frozenset()
    permanent: frozenset[str] = frozenset()
    vanished_raw: list[bytes] = []
    changed: dict[int, FlagRecord] = {}
    for response in responses:
        untagged = parse_untagged(response)
        if untagged.kind == "EXISTS":
            exists = untagged.number
        elif untagged.kind == "FLAGS":
            flags = decode_atoms(parse_values(untagged.rest)[0])
        elif untagged.kind == "VANISHED":
            vanished_raw.append(response)
        elif untagged.kind == "FETCH":
            if (record := parse_flag_fetch(untagged.rest)) is not None:
                changed[record.uid] = record
        elif untagged.kind == "OK":
            text = parse_status_text(untagged.rest)
            if text.code == "PERMANENTFLAGS" and text.arg is not None:
                permanent = decode_atoms(parse_values(text.arg)[0])
            elif text.code in ("UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ") and text.arg:
                if not text.arg.isdigit() or len(text.arg) > 20:
                    raise MalformedResponse(f"{text.code} is not a number")
                counters[text.code] = int(text.arg)
    if exists is None or "UIDVALIDITY" not in counters:
        raise MalformedResponse("SELECT did not report EXISTS and UIDVALIDITY")
    uidnext = counters.get("UIDNEXT")
    vanished: list[int] = []
    for response in vanished_raw:
        event = parse_event(parse_untagged(response), below=uidnext)
        if isinstance(event, Vanished):
            vanished += event.uids
    return SelectedState(
        name=name,
        exists=exists,
        uidvalidity=counters["UIDVALIDITY"],
        uidnext=uidnext,
        highestmodseq=counters.get("HIGHESTMODSEQ"),
        readonly=tagged.code == "READ-ONLY",
        flags=flags,
        permanent_flags=permanent,
        vanished=tuple(sorted(set(vanished))),
        changed=tuple(changed[uid] for uid in sorted(changed)),
    )


def parse_uid_mapping(text: StatusText) -> dict[int, int]:
    """Old UID -> new UID from a COPYUID response code (RFC 4315); {} without one."""
    if text.code != "COPYUID" or text.arg is None:
        return {}
    parts = text.arg.split()
    if len(parts) != 3:
        raise MalformedResponse("a COPYUID code without its three parts")
    sources, targets = parse_uid_set(parts[1]), parse_uid_set(parts[2])
    if len(sources) != len(targets):
        raise MalformedResponse("a COPYUID code with sets of different sizes")
    return dict(zip(sources, targets, strict=True))


# Commands


async def list_folders(
    session: ImapSession, statuses: dict[str, FolderStatus] | None = None
) -> list[FolderInfo]:
    """Every folder with its role and subscription (LIST-EXTENDED, else LIST and LSUB).

    With ``statuses`` and a server that has LIST-STATUS (RFC 5819), the same LIST also fills
    it with each folder's STATUS counters, keyed by the name as listed (``raw_name``): one
    round trip instead of a STATUS per folder.
    """
    extended = "LIST-EXTENDED" in session.capabilities
    with_status = statuses is not None and extended and "LIST-STATUS" in session.capabilities
    listed: list[tuple[frozenset[str], str | None, str]] = []
    subscribed: set[str] = set()
    counters: dict[str, dict[str, int]] = {}

    def collect(response: bytes) -> bool:
        untagged = parse_untagged(response)
        if untagged.kind == "LIST":
            listed.append(parse_list(untagged.rest))
        elif untagged.kind == "LSUB":
            subscribed.add(parse_list(untagged.rest)[2])
        elif untagged.kind == "STATUS" and with_status:
            name = parse_values(untagged.rest)[0]
            if not isinstance(name, bytes):
                raise MalformedResponse("a STATUS response with a bad folder name")
            counters[name.decode("utf-8", "surrogateescape")] = parse_status(untagged.rest)
        else:
            return False
        return True

    with session.exclusive("LIST"):
        arguments: list[Argument] = [b"LIST", b'""', b'"*"']
        if extended:
            special_use = "SPECIAL-USE" in session.capabilities
            options = b"SUBSCRIBED SPECIAL-USE" if special_use else b"SUBSCRIBED"
            if with_status:
                options += b" STATUS (" + _status_items(session) + b")"
            arguments += [b"RETURN", b"(" + options + b")"]
        await session.command(arguments, "LIST", collect)
        if not extended:
            await session.command([b"LSUB", b'""', b'"*"'], "LSUB", collect)
    if statuses is not None:
        for raw, found in counters.items():
            # A folder whose counters are incomplete is simply left out: asked with STATUS.
            if (folder_status := _folder_status(found)) is not None:
                statuses[raw] = folder_status
    return [
        folder_info(flags, delimiter, raw, raw in subscribed) for flags, delimiter, raw in listed
    ]


async def select(
    session: ImapSession,
    name: str,
    mailbox: Argument,
    readonly: bool,
    qresync: tuple[int, int] | None,
) -> SelectedState:
    """SELECT or EXAMINE, with QRESYNC or CONDSTORE when the server can."""
    verb = "EXAMINE" if readonly else "SELECT"
    arguments: list[Argument] = [verb.encode(), mailbox]
    if qresync is not None:
        if "QRESYNC" not in session.enabled and not await session.enable("QRESYNC"):
            raise ProtocolError(f"IMAP server {session.label} does not support QRESYNC")
        arguments.append(b"(QRESYNC (%d %d))" % qresync)
    elif "CONDSTORE" in session.capabilities and "CONDSTORE" not in session.enabled:
        arguments.append(b"(CONDSTORE)")  # asks for HIGHESTMODSEQ; enables CONDSTORE
        session.enabled.add("CONDSTORE")
    responses: list[bytes] = []
    session.events.clear()  # news about the previous folder
    session.uidnext = None
    with session.exclusive(verb):
        status, text = await session.command_status(
            arguments, f"{verb} {name!r}", select_collector(responses)
        )
        if status != "OK":
            if text.code == "NONEXISTENT":
                raise MessageNotFound(f"there is no folder {name!r} on {session.label}")
            raise session.refused(verb, status, text)
        state = parse_select(name, responses, text)
    session.uidnext = state.uidnext
    return state


def _status_items(session: ImapSession) -> bytes:
    items = b"MESSAGES UNSEEN UIDNEXT UIDVALIDITY"
    if "CONDSTORE" in session.capabilities:
        items += b" HIGHESTMODSEQ"
    return items


def _folder_status(counters: dict[str, int]) -> FolderStatus | None:
    try:
        return FolderStatus(
            messages=counters["MESSAGES"],
            unseen=counters["UNSEEN"],
            uidnext=counters["UIDNEXT"],
            uidvalidity=counters["UIDVALIDITY"],
            highestmodseq=counters.get("HIGHESTMODSEQ"),
        )
    except KeyError:
        return None


async def status(session: ImapSession, name: str, mailbox: Argument) -> FolderStatus:
    """STATUS counters of any folder."""
    counters: dict[str, int] = {}

    def collect(response: bytes) -> bool:
        untagged = parse_untagged(response)
        if untagged.kind != "STATUS":
            return False
        counters.update(parse_status(untagged.rest))
        return True

    with session.exclusive("STATUS"):
        arguments = [b"STATUS", mailbox, b"(" + _status_items(session) + b")"]
        await session.command(arguments, f"STATUS {name!r}", collect)
    found = _folder_status(counters)
    if found is None:
        missing = next(
            key for key in ("MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY") if key not in counters
        )
        raise ProtocolError(f"IMAP server {session.label} left {missing!r} out of its STATUS reply")
    return found


async def folder_command(session: ImapSession, verb: str, *mailboxes: Argument, shown: str) -> None:
    """CREATE, DELETE, RENAME, SUBSCRIBE or UNSUBSCRIBE."""
    with session.exclusive(verb):
        await session.command([verb.encode(), *mailboxes], f"{verb} {shown}")
