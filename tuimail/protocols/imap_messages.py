"""Commands on the messages of the selected folder: FETCH, SEARCH, STORE, COPY, MOVE, EXPUNGE
and APPEND, each turning its responses into records.

Functions here take the session and folder arguments already spelled for the wire; the
client (``imap.ImapClient``) is the public face. UID sets are compressed into ranges and split
into commands of bounded length.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncGenerator, Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Final, Protocol, TypeVar

from tuimail.errors import ProtocolError
from tuimail.protocols.imap_headers import FETCH_ITEMS, parse_header_fetch
from tuimail.protocols.imap_mailbox import parse_uid_mapping
from tuimail.protocols.imap_parse import (
    Value,
    message_flags,
    pairs,
    parse_esearch_all,
    parse_flag_fetch,
    parse_search,
    parse_status_text,
    parse_uid_set,
    parse_untagged,
    parse_values,
    to_int,
    uid_set_chunks,
)
from tuimail.protocols.imap_records import FlagRecord, HeaderRecord, StoreResult
from tuimail.protocols.imap_search import FIELD_NAME
from tuimail.protocols.imap_session import Argument, ImapSession, Literal

Item = TypeVar("Item")

# Module constants are Final: mypy rejects a second assignment, which no ruff rule catches
# (a second _UID_RANGE here once silently replaced the first).
_UID_SET: Final = re.compile(
    r"(?:\d{1,10}|\*)(?::(?:\d{1,10}|\*))?(?:,(?:\d{1,10}|\*)(?::(?:\d{1,10}|\*))?)*"
)
_FLAG: Final = re.compile(r"\\?[!#$&'+\-./0-9:;<=>?@A-Z^_`a-z|}~]+")
_FAST_FLAG_FETCH: Final = re.compile(
    rb"\* \d{1,10} FETCH \((?:(?:UID (\d{1,10})|FLAGS \(([^()\"{\r\n]*+)\)|MODSEQ \((\d{1,20})\))"
    rb" ?)++\)\Z"
)
_UID_RANGE: Final = re.compile(r"(\d{1,10})(?::(\d{1,10}|\*))?")
MAX_UID: Final = 2**32 - 1
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_QUOTED_CRITERION: Final = re.compile(r'"((?:[^"\\]|\\.)*)"')


# Reading


class ResponseParser(Protocol[Item]):
    """Makes header FETCH responses into items: None for a response that is not a header FETCH.

    Items may be made lazily, as the caller takes them.
    """

    def uid_of(self, item: Item) -> int: ...

    def parse(self, batch: list[bytes]) -> Iterable[Item | None]: ...


class InlineHeaderParser:
    """HeaderRecords, parsed one response at a time as the caller takes them."""

    def uid_of(self, item: HeaderRecord) -> int:
        return item.uid

    def parse(self, batch: list[bytes]) -> Iterable[HeaderRecord | None]:
        # Lazily: the caller hands groups on (and lets the loop turn) while parsing.
        return map(parse_header_fetch, batch)


def fetch_header_groups(
    session: ImapSession, uid_range: str, changedsince: int | None, most: int = 100
) -> AsyncGenerator[list[HeaderRecord], None]:
    """Yield the HeaderRecords of ``uid_range`` in arrival order, at most ``most`` at a time."""
    return fetch_parsed_groups(session, uid_range, changedsince, InlineHeaderParser(), most)


async def fetch_parsed_groups(
    session: ImapSession,
    uid_range: str,
    changedsince: int | None,
    parser: ResponseParser[Item],
    most: int = 100,
) -> AsyncGenerator[list[Item], None]:
    """Yield what ``parser`` makes of the header FETCH of ``uid_range``, in arrival order, at
    most ``most`` at a time.

    A cold sync takes 100k records: handing them over in groups costs one resumption of each
    generator per group instead of per record, and ``most`` bounds how long the parsing of one
    buffer-full (up to 4 MB) holds the event loop before the caller gets to turn it.
    """
    items = FETCH_ITEMS + (" MODSEQ" if "CONDSTORE" in session.capabilities else "")
    arguments = fetch_arguments(session, uid_range, items, changedsince)
    stream = session.stream(arguments, f"UID FETCH {uid_range} (headers)")
    low, high = uid_limits(uid_range)
    seen: set[int] = set()
    uid_of = parser.uid_of

    def claimed(responses: list[bytes]) -> Iterator[list[Item]]:
        group: list[Item] = []
        for response, item in zip(responses, parser.parse(responses), strict=True):
            if item is None:
                session.dispatch(response)
                continue
            uid = uid_of(item)
            if uid in seen or not low <= uid <= high:
                # The same message twice in one reply (RFC 3501 allows a server to repeat
                # itself): the first copy stands, and a store never sees a duplicate UID.
                # A message not asked for is not believed; both count towards the limit
                # that ends a reply without end.
                session.count_unclaimed()
                continue
            seen.add(uid)
            group.append(item)
            if len(group) == most:
                session.count_claimed(most)
                yield group
                group = []
        if group:
            session.count_claimed(len(group))
            yield group

    with session.exclusive("UID FETCH"):
        async with contextlib.aclosing(stream):
            async for batch in stream:
                for group in claimed(batch):
                    yield group


async def fetch_flags(
    session: ImapSession, uid_range: str, changedsince: int | None
) -> list[FlagRecord]:
    """Flags (and mod-sequences) of the messages of ``uid_range``, or of those changed since."""
    items = "UID FLAGS" + (" MODSEQ" if "CONDSTORE" in session.capabilities else "")
    arguments = fetch_arguments(session, uid_range, items, changedsince)
    records: dict[int, FlagRecord] = {}  # by UID: a repeated message replaces itself
    stream = session.stream(arguments, f"UID FETCH {uid_range} (flags)")
    low, high = uid_limits(uid_range)
    with session.exclusive("UID FETCH"):
        async with contextlib.aclosing(stream):
            async for batch in stream:
                for response in batch:
                    match = _FAST_FLAG_FETCH.match(response)
                    record: FlagRecord | None
                    if match is not None and match[1] is not None and match[2] is not None:
                        modseq = int(match[3]) if match[3] is not None else None
                        flags = message_flags(match[2])
                        record = FlagRecord(int(match[1]), flags, modseq)
                    elif (record := flag_record(response)) is None:
                        session.dispatch(response)
                        continue
                    if low <= record.uid <= high:
                        session.count_claimed()
                        records[record.uid] = record
                    else:
                        session.count_unclaimed()
    return list(records.values())


def uid_limits(uid_range: str) -> tuple[int, int]:
    """The lowest and highest UID of ``uid_range`` as sent (``a:b``, ``a:*`` or one UID);
    (0, MAX_UID) for anything else, which is taken as it comes."""
    match = _UID_RANGE.fullmatch(uid_range)
    if match is None:
        return 0, MAX_UID
    first = int(match[1])
    last = first if match[2] is None else (MAX_UID if match[2] == "*" else int(match[2]))
    return min(first, last), max(first, last)


def flag_record(response: bytes) -> FlagRecord | None:
    """The FlagRecord in a FETCH response that carries UID and FLAGS, else None."""
    untagged = parse_untagged(response)
    return parse_flag_fetch(untagged.rest) if untagged.kind == "FETCH" else None


def fetch_arguments(
    session: ImapSession, uid_range: str, items: str, changedsince: int | None
) -> list[Argument]:
    """``UID FETCH <set> (<items>) [(CHANGEDSINCE n)]``, the set checked (``1,3:5``, ``1:*``)."""
    if _UID_SET.fullmatch(uid_range) is None:
        raise ValueError(f"not a UID set: {uid_range!r}")
    arguments: list[Argument] = [b"UID", b"FETCH", uid_range.encode(), f"({items})".encode()]
    if changedsince is not None:
        if "CONDSTORE" not in session.capabilities:
            raise ProtocolError(f"IMAP server {session.label} does not support CONDSTORE")
        arguments.append(b"(CHANGEDSINCE %d)" % changedsince)
    return arguments


async def fetch_bodies(
    session: ImapSession, uids: Collection[int], batch_size: int
) -> AsyncGenerator[tuple[int, bytes], None]:
    """Yield (uid, message) for those of ``uids`` still there, ``batch_size`` per command."""
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), batch_size):
        for uid_set in uid_set_chunks(ordered[start : start + batch_size]):
            arguments = [b"UID", b"FETCH", uid_set.encode(), b"(UID BODY.PEEK[])"]
            stream = session.stream(arguments, f"UID FETCH {uid_set} (BODY.PEEK[])")
            with session.exclusive("UID FETCH"):
                async with contextlib.aclosing(stream):
                    async for batch in stream:
                        for response in batch:
                            found = _body_of(response)
                            if found is None:
                                session.dispatch(response)
                            else:
                                yield found


async def fetch_header_field(
    session: ImapSession, uids: Collection[int], field: str
) -> dict[int, bytes]:
    """UID -> the raw ``field:`` lines of each of ``uids`` still there (HEADER.FIELDS)."""
    if FIELD_NAME.fullmatch(field) is None:
        raise ValueError(f"not a header field name: {field!r}")
    section = f"BODY.PEEK[HEADER.FIELDS ({field})]"
    found: dict[int, bytes] = {}

    def collect(response: bytes) -> bool:
        untagged = parse_untagged(response)
        if untagged.kind != "FETCH":
            return False
        items = pairs(parse_values(untagged.rest)[0])
        uid = items.get(b"UID")
        lines = next((v for k, v in items.items() if k.startswith(b"BODY[HEADER.FIELDS")), None)
        if uid is None or not isinstance(lines, bytes):
            return False  # a flag change someone else made: news for the session
        found[to_int(uid, "UID")] = lines
        return True

    for uid_set in uid_set_chunks(sorted(set(uids))):
        arguments = [b"UID", b"FETCH", uid_set.encode(), f"(UID {section})".encode()]
        with session.exclusive("UID FETCH"):
            await session.command(arguments, f"UID FETCH {uid_set} ({section})", collect)
    return found


def _body_of(response: bytes) -> tuple[int, bytes] | None:
    untagged = parse_untagged(response)
    if untagged.kind != "FETCH":
        return None
    values = parse_values(untagged.rest)
    if len(values) != 1:
        return None
    items: dict[bytes, Value] = pairs(values[0])
    body, uid = items.get(b"BODY[]"), items.get(b"UID")
    if uid is None or not isinstance(body, bytes):
        return None
    return to_int(uid, "UID"), body


async def uid_search(session: ImapSession, criteria: str) -> list[int]:
    """UIDs matching IMAP search keys, in ascending order.

    With ESEARCH (RFC 4731) the answer comes as ranges ("1:10000"), not one number per
    message: a tenth of the bytes for the server to write and for us to read.
    """
    extended = "ESEARCH" in session.capabilities
    returning: list[Argument] = [b"RETURN", b"(ALL)"] if extended else []
    arguments: list[Argument] = [b"UID", b"SEARCH", *returning, *search_arguments(criteria)]
    found: list[int] = []

    def collect(response: bytes) -> bool:
        untagged = parse_untagged(response)
        if untagged.kind == "SEARCH":
            uids = parse_search(untagged.rest)
        elif untagged.kind == "ESEARCH" and extended:
            uids = parse_esearch_all(untagged.rest)
        else:
            return False
        session.count_claimed(len(uids))  # a UID counts as a response: no list without end
        found.extend(uids)
        return True

    with session.exclusive("UID SEARCH"):
        await session.command(arguments, f"UID SEARCH {criteria!r}", collect)
    return sorted(found)


def search_arguments(criteria: str) -> list[Argument]:
    """Search keys as arguments; quoted non-ASCII text goes as UTF-8 literals (CHARSET UTF-8)."""
    if "\r" in criteria or "\n" in criteria or "\0" in criteria:
        raise ValueError("search criteria cannot contain line breaks or NUL characters")
    if criteria.isascii():
        return [criteria.encode("ascii")]
    arguments: list[Argument] = [b"CHARSET", b"UTF-8"]
    pos = 0
    for match in _QUOTED_CRITERION.finditer(criteria):
        arguments += _plain_criteria(criteria[pos : match.start()])
        text = re.sub(r"\\(.)", r"\1", match[1])
        arguments.append(Literal(text.encode("utf-8")))
        pos = match.end()
    arguments += _plain_criteria(criteria[pos:])
    return arguments


def _plain_criteria(text: str) -> list[Argument]:
    text = text.strip()
    if not text:
        return []
    if not text.isascii():
        raise ValueError("non-ASCII search text must be in double quotes")
    return [text.encode("ascii")]


# Changing


async def store_flags(
    session: ImapSession,
    uids: Sequence[int],
    add: Collection[str],
    remove: Collection[str],
    unchangedsince: int | None,
) -> StoreResult:
    """UID STORE +FLAGS / -FLAGS, optionally guarded by UNCHANGEDSINCE."""
    updated: dict[int, FlagRecord] = {}
    modified: list[int] = []

    def collect(response: bytes) -> bool:
        record = flag_record(response)
        if record is None:
            return False
        updated[record.uid] = record
        return True

    modifier = b" (UNCHANGEDSINCE %d)" % unchangedsince if unchangedsince is not None else b""
    for sign, flags in ((b"+", add), (b"-", remove)):
        if not flags:
            continue
        flag_list = _flag_list(flags)
        for uid_set in uid_set_chunks(uids):
            arguments = [b"UID", b"STORE", uid_set.encode() + modifier, sign + b"FLAGS", flag_list]
            shown = f"UID STORE {uid_set} {sign.decode()}FLAGS"
            with session.exclusive("UID STORE"):
                text = await session.command(arguments, shown, collect)
            if text.code == "MODIFIED" and text.arg is not None:
                modified += parse_uid_set(text.arg)
    return StoreResult(tuple(updated.values()), tuple(sorted(set(modified))))


async def copy(session: ImapSession, uids: Sequence[int], target: Argument) -> dict[int, int]:
    """UID COPY; old UID -> new UID from COPYUID when the server sends it."""
    mapping: dict[int, int] = {}
    for uid_set in uid_set_chunks(uids):
        arguments = [b"UID", b"COPY", uid_set.encode(), target]
        with session.exclusive("UID COPY"):
            text = await session.command(arguments, f"UID COPY {uid_set}")
        mapping.update(parse_uid_mapping(text))
    return mapping


async def move(session: ImapSession, uids: Sequence[int], target: Argument) -> dict[int, int]:
    """UID MOVE (RFC 6851), or COPY, \\Deleted and EXPUNGE without it; old -> new UID."""
    if "MOVE" not in session.capabilities:
        mapping = await copy(session, uids, target)
        await expunge(session, uids)
        return mapping
    mapping = {}
    copied: list[bytes] = []

    def collect(response: bytes) -> bool:
        # RFC 6851: COPYUID comes in an untagged OK before the expunges.
        if response.startswith(b"* OK [COPYUID "):
            copied.append(response[5:])
            return True
        return False

    for uid_set in uid_set_chunks(uids):
        arguments = [b"UID", b"MOVE", uid_set.encode(), target]
        with session.exclusive("UID MOVE"):
            text = await session.command(arguments, f"UID MOVE {uid_set}", collect)
        mapping.update(parse_uid_mapping(text))
    for raw in copied:
        mapping.update(parse_uid_mapping(parse_status_text(raw)))
    return mapping


async def expunge(session: ImapSession, uids: Sequence[int]) -> None:
    """Mark \\Deleted, then UID EXPUNGE (UIDPLUS) or, failing that, EXPUNGE."""
    if not uids:
        return
    await store_flags(session, uids, {"\\Deleted"}, (), None)
    if "UIDPLUS" in session.capabilities:
        for uid_set in uid_set_chunks(uids):
            with session.exclusive("UID EXPUNGE"):
                arguments = [b"UID", b"EXPUNGE", uid_set.encode()]
                await session.command(arguments, f"UID EXPUNGE {uid_set}")
    else:
        with session.exclusive("EXPUNGE"):
            await session.command([b"EXPUNGE"], "EXPUNGE")


async def append(
    session: ImapSession,
    folder: Argument,
    raw: bytes,
    flags: Collection[str],
    internal_date: datetime | None,
) -> int | None:
    """APPEND a message; its UID from APPENDUID when the server sends it."""
    arguments: list[Argument] = [b"APPEND", folder, _flag_list(flags)]
    if internal_date is not None:
        arguments.append(_internal_date(internal_date))
    arguments.append(Literal(raw))
    with session.exclusive("APPEND"):
        text = await session.command(arguments, f"APPEND ({len(raw)} bytes)")
    if text.code == "APPENDUID" and text.arg is not None:
        parts = text.arg.split()
        if len(parts) == 2 and parts[1].isdigit():
            return int(parts[1])
    return None


async def append_many(
    session: ImapSession,
    folder: Argument,
    messages: Sequence[tuple[bytes, Collection[str], datetime | None]],
) -> None:
    """APPEND several messages in one command (MULTIAPPEND, RFC 3502): all are stored or none."""
    arguments: list[Argument] = [b"APPEND", folder]
    for raw, flags, internal_date in messages:
        arguments.append(_flag_list(flags))
        if internal_date is not None:
            arguments.append(_internal_date(internal_date))
        arguments.append(Literal(raw))
    size = sum(len(raw) for raw, _flags, _date in messages)
    with session.exclusive("APPEND"):
        await session.command(arguments, f"APPEND ({len(messages)} messages, {size} bytes)")


def _flag_list(flags: Collection[str]) -> bytes:
    for flag in flags:
        # A flag is an atom; anything else could close the list and smuggle in syntax.
        if _FLAG.fullmatch(flag) is None:
            raise ValueError(f"not a valid IMAP flag: {flag!r}")
    return ("(" + " ".join(sorted(flags)) + ")").encode("ascii")


def _internal_date(when: datetime) -> bytes:
    if when.tzinfo is None:
        raise ValueError("internal_date must be timezone-aware")
    # Month names from our table: strftime("%b") follows the locale.
    text = f"{when.day:2d}-{_MONTHS[when.month - 1]}-{when.year:04d} {when:%H:%M:%S %z}"
    return f'"{text}"'.encode("ascii")
