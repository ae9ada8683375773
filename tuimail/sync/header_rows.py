"""Header FETCH responses made straight into the store's rows.

A cold sync of 100k messages parses each response into a record and the record into the tuple
of column values the store inserts (``store.message_values``); the sync hands the protocol
layer this parser (``fetch_parsed_groups``), so it gets the tuples without keeping records.

Parsing in a child process was tried (both cores parsing): on the 2-core machine of the
benchmarks it was no faster whole and cost 20 MB more, because the store's thread and the
network already keep the second core busy, so it is not done.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tuimail.protocols.imap_headers import parse_header_fetch
from tuimail.protocols.imap_records import HeaderRecord
from tuimail.store.message_values import UID_AT, MessageValues, message_values
from tuimail.store.records import NewMessage


def values_of(record: HeaderRecord) -> MessageValues:
    """The store's column values for a message known by its header FETCH."""
    return message_values(
        NewMessage(
            record.envelope, record.uid, None, record.flags, record.internal_date, record.modseq
        )
    )


def values_of_responses(batch: Iterable[bytes]) -> Iterator[MessageValues | None]:
    """Each response's column values; None for a response that is not a header FETCH."""
    for response in batch:
        record = parse_header_fetch(response)
        yield None if record is None else values_of(record)


class RowParser:
    """Rows made one response at a time, as the caller takes them (lazily: the caller lets
    the event loop turn between groups)."""

    def uid_of(self, item: MessageValues) -> int:
        uid = item[UID_AT]
        assert isinstance(uid, int)
        return uid

    def parse(self, batch: list[bytes]) -> Iterable[MessageValues | None]:
        return values_of_responses(batch)
