"""Address completion: every address seen in the store, ranked by how the user wrote to it.

``addresses`` is a small derived table, one row per address: how often and when the user last
wrote to it (To/Cc of mail in a Sent folder or from the account's own address, plus Bcc noted at
sending), and how often it sent the user mail. ``address_state`` remembers the newest message
counted; ``refresh_addresses`` counts the newer ones in batches, off the sync's path, so a
completion reads the small table, never the messages. ``address_words`` indexes each word of a
name, so a rare prefix finds its few addresses at once; a common one instead walks the
addresses in rank order and stops at the first few that match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# An address in angle brackets, or a bare one. Stored lists are "Name <a@b>, c@d" with names
# unquoted (they may hold commas), so the addresses anchor the parse, not the commas.
_ADDRESS = re.compile(r"<([^<>\s]+@[^<>\s]+)>|([^\s,<>\"]+@[^\s,<>\"]+)")
_NAME_TRIM = " \t,;\"'"
RECENCY_DAYS = 30  # a write this many days old counts half as much as one today
_SECONDS_PER_DAY = 86_400
FEW_HITS = 300  # up to this many addresses for a prefix are ranked whole; more are walked


@dataclass(frozen=True, slots=True)
class AddressMatch:
    """One completion candidate with what its rank rests on."""

    name: str
    email: str
    written_count: int
    written_last: int  # Unix seconds; 0 if never written to
    seen_count: int


@dataclass
class _Tally:
    name: str = ""
    written_count: int = 0
    written_last: int = 0
    seen_count: int = 0
    seen_last: int = 0


def parse_address_list(stored: str) -> list[tuple[str, str]]:
    """(name, address) pairs of a stored "Name <a@b>, c@d" list; the name may be empty."""
    found: list[tuple[str, str]] = []
    start = 0
    for match in _ADDRESS.finditer(stored):
        if match.group(1) is not None:
            name = stored[start : match.start()].strip(_NAME_TRIM)
            found.append((name, match.group(1)))
        else:
            found.append(("", match.group(2)))
        start = match.end()
    return found


def _tally(tallies: dict[str, _Tally], name: str, email: str, when: int, *, written: bool) -> None:
    key = email.casefold()
    tally = tallies.setdefault(key, _Tally())
    if name:
        tally.name = name
    if written:
        tally.written_count += 1
        tally.written_last = max(tally.written_last, when)
    else:
        tally.seen_count += 1
        tally.seen_last = max(tally.seen_last, when)


def _words(name: str, email: str) -> set[str]:
    """The keys a prefix is matched against: the address, the name, each later word onwards."""
    words = {email}
    parts = name.casefold().split()
    words.update(" ".join(parts[n:]) for n in range(len(parts)))
    return words


_UPSERT = (
    "INSERT INTO addresses (email, name, search_text, written_count, written_last, seen_count, "
    "seen_last) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET "
    # An address seen without a name keeps the one it had.
    "name = CASE WHEN excluded.name = '' THEN name ELSE excluded.name END, "
    "search_text = CASE WHEN excluded.name = '' THEN search_text ELSE excluded.search_text END, "
    "written_count = written_count + excluded.written_count, "
    "written_last = max(written_last, excluded.written_last), "
    "seen_count = seen_count + excluded.seen_count, "
    "seen_last = max(seen_last, excluded.seen_last)"
)


async def _upsert(session: AsyncSession, tallies: dict[str, _Tally]) -> None:
    if not tallies:
        return
    # executemany straight to the driver: the ORM's bulk insert cost ten times the writes.
    connection = await session.connection()
    await connection.exec_driver_sql(
        _UPSERT,
        [
            (
                email,
                t.name,
                f" {t.name.casefold()} {email}",
                t.written_count,
                t.written_last,
                t.seen_count,
                t.seen_last,
            )
            for email, t in tallies.items()
        ],
    )
    # Words of an earlier name stay: that name still finds the address.
    await connection.exec_driver_sql(
        "INSERT OR IGNORE INTO address_words (word, email) VALUES (?, ?)",
        [(word, email) for email, t in tallies.items() for word in _words(t.name, email)],
    )


async def refresh_addresses(session: AsyncSession, batch: int = 5000) -> int:
    """Count the addresses of up to ``batch`` messages stored since the last refresh.

    Returns how many messages it took (0: up to date). Mail in a Sent folder, or from the
    account's own address, counts as written to its To and Cc; other mail counts its From.
    """
    counted = int(
        (await session.execute(text("SELECT counted_up_to FROM address_state"))).scalar_one()
    )
    rows = (
        await session.execute(
            text(
                "SELECT m.id, f.role, a.email, m.from_name, m.from_email, m.to_addrs, "
                "m.cc_addrs, coalesce(nullif(m.date, 0), m.internal_date, 0) "
                "FROM messages m JOIN folders f ON f.id = m.folder_id "
                "JOIN accounts a ON a.id = f.account_id "
                "WHERE m.id > :counted ORDER BY m.id LIMIT :batch"
            ),
            {"counted": counted, "batch": batch},
        )
    ).all()
    if not rows:
        return 0
    # Claim the batch first: that takes the write lock, and if a delete moved the mark since
    # it was read, nothing is counted now (the next refresh reads again) rather than twice.
    claimed = await session.execute(
        text("UPDATE address_state SET counted_up_to = :new WHERE counted_up_to = :old"),
        {"new": int(rows[-1][0]), "old": counted},
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return 0
    tallies: dict[str, _Tally] = {}
    for _pk, role, own, from_name, from_email, to_addrs, cc_addrs, when in rows:
        own_mail = bool(own) and from_email.casefold() == str(own).casefold()
        if role == "sent" or own_mail:
            for name, email in unique_addresses(parse_address_list(f"{to_addrs}, {cc_addrs}")):
                _tally(tallies, name, email, int(when), written=True)
        elif from_email:
            _tally(tallies, from_name, from_email, int(when), written=False)
    await _upsert(session, tallies)
    return len(rows)


async def record_written(
    session: AsyncSession, addresses: Iterable[tuple[str, str]], when: int
) -> None:
    """Count (name, address) pairs as written to at ``when``: for Bcc, which no copy keeps."""
    tallies: dict[str, _Tally] = {}
    for name, email in unique_addresses(list(addresses)):
        if email:
            _tally(tallies, name, email, when, written=True)
    await _upsert(session, tallies)


def _prefix_end(prefix: str) -> str:
    """The smallest string after every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


_SELECT_COLUMNS = "SELECT name, email, written_count, written_last, seen_count"
_SELECT = f"{_SELECT_COLUMNS} FROM addresses "
# Written-to first, by uses weighted by age (half weight at RECENCY_DAYS), then received-from.
_RANK = (
    "ORDER BY written_count > 0 DESC, "
    f"written_count / (1.0 + max(0, ? - written_last) / {RECENCY_DAYS * _SECONDS_PER_DAY}.0) DESC, "
    "seen_count DESC, seen_last DESC, email LIMIT ?"
)


def _match(row: Sequence[Any]) -> AddressMatch:
    return AddressMatch(str(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[4]))


async def matching_addresses(
    session: AsyncSession, prefix: str, now: int, limit: int = 10
) -> list[AddressMatch]:
    """Addresses whose address, name, or a later word of the name starts with ``prefix``
    (any case): written-to first, by a score of how often and how recently, then received-from.
    """
    key = " ".join(prefix.casefold().split())
    if not key:
        return []
    # Plain SQL straight to the driver: this runs on every keystroke, and the ORM's statement
    # handling cost more than the reads themselves.
    connection = await session.connection()
    # One statement for a rare prefix: its addresses ranked, each row also saying how many
    # there were (up to FEW_HITS + 1: more means ranking them all would be slow).
    hits = "SELECT DISTINCT email FROM address_words WHERE word >= ? AND word < ? LIMIT ?"
    bounds = (key, _prefix_end(key), FEW_HITS + 1)
    rows: list[Sequence[Any]] = list(
        await connection.exec_driver_sql(
            f"{_SELECT_COLUMNS}, (SELECT count(*) FROM ({hits})) FROM addresses "
            f"WHERE email IN ({hits}) {_RANK}",
            (*bounds, *bounds, now, limit),
        )
    )
    if not rows or rows[0][5] <= FEW_HITS:
        return [_match(row) for row in rows]
    # A common prefix: the addresses written to (few) ranked whole, then the others walked in
    # received order until enough match.
    needle = " " + key
    rows = list(
        await connection.exec_driver_sql(
            f"{_SELECT} WHERE written_count > 0 AND instr(search_text, ?) > 0 {_RANK}",
            (needle, now, limit),
        )
    )
    if len(rows) < limit:
        rows += await connection.exec_driver_sql(
            f"{_SELECT} WHERE written_count = 0 AND instr(search_text, ?) > 0 "
            "ORDER BY seen_count DESC, seen_last DESC LIMIT ?",
            (needle, limit - len(rows)),
        )
    return [_match(row) for row in rows]


async def ranked_addresses(session: AsyncSession, now: int, limit: int) -> list[AddressMatch]:
    """Every address, ranked as ``matching_addresses`` ranks them, up to ``limit``."""
    connection = await session.connection()
    rows = await connection.exec_driver_sql(f"{_SELECT}{_RANK}", (now, limit))
    return [_match(row) for row in rows]


async def pending_count(session: AsyncSession) -> int:
    """Messages whose addresses are not counted yet."""
    return int(
        (
            await session.execute(
                text(
                    "SELECT count(*) FROM messages "
                    "WHERE id > (SELECT counted_up_to FROM address_state)"
                )
            )
        ).scalar_one()
    )


def unique_addresses(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` with each address (any case) once, under the first name given for it."""
    kept: dict[str, tuple[str, str]] = {}
    for name, email in pairs:
        key = email.casefold()
        if key not in kept or (name and not kept[key][0]):
            kept[key] = (name, email)
    return list(kept.values())
