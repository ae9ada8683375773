"""Address completion for the compose screen: the store's ranked addresses and a vCard file.

The store counts who the user writes to (``store.address_queries``); the vCard file of
``[ui] contacts`` is read, never written, and read again when it changes. Suggestions come
written-to first, then the file's contacts, then people who only wrote to the user.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from tuimail.errors import ConfigError
from tuimail.mail.vcard import Contact, parse_vcards
from tuimail.store import address_queries
from tuimail.store.db import Store
from tuimail.sync import address_command
from tuimail.sync.interface import AddressSuggestion

log = logging.getLogger(__name__)


def contact_matches(contact: Contact, key: str) -> bool:
    """Whether ``key`` (casefolded) starts the address, the name or a later word of the name."""
    if contact.email.casefold().startswith(key):
        return True
    words = contact.name.casefold().split()
    return any(" ".join(words[n:]).startswith(key) for n in range(len(words)))


def merge_suggestions(
    stored: Sequence[address_queries.AddressMatch],
    contacts: Sequence[Contact],
    limit: int,
    own: Sequence[Contact] = (),
) -> list[AddressSuggestion]:
    """Written-to (store order) first, then the user's own addresses, then vCard contacts,
    then addresses only received from; each address once."""
    written = [
        AddressSuggestion(m.name, m.email, "written", m.written_count)
        for m in stored
        if m.written_count
    ]
    listed = {s.email.casefold() for s in written}
    mine = [AddressSuggestion(c.name, c.email, "own") for c in unique_contacts(own)]
    mine = [s for s in mine if s.email.casefold() not in listed]
    listed |= {s.email.casefold() for s in mine}
    named = [
        AddressSuggestion(c.name, c.email, "contacts")
        for c in unique_contacts(contacts)
        if c.email.casefold() not in listed
    ]
    listed |= {s.email.casefold() for s in named}
    received = [
        AddressSuggestion(m.name, m.email, "received", m.seen_count)
        for m in stored
        if not m.written_count and m.email.casefold() not in listed
    ]
    return [*written, *mine, *named, *received][:limit]


def unique_contacts(contacts: Sequence[Contact]) -> list[Contact]:
    """Each address once (any case), under the first card that has it."""
    seen: set[str] = set()
    kept = []
    for contact in contacts:
        if contact.email.casefold() not in seen:
            seen.add(contact.email.casefold())
            kept.append(contact)
    return kept


class AddressBook:
    """Completion over one store and (optionally) one vCard file."""

    def __init__(
        self,
        store: Store,
        contacts: Path | None,
        *,
        clock: Callable[[], float] = time.time,
        own: Sequence[Contact] = (),
        command: str | None = None,
        command_timeout: float = 2.0,
    ) -> None:
        self.store = store
        self.contacts_file = contacts
        self.command = command  # [ui] address_book_command
        self.command_timeout = command_timeout
        self.own = list(own)  # the user's addresses: every account's and identity's
        self.clock = clock
        self._refreshing = asyncio.Lock()  # two refreshes at once would count messages twice
        self._contacts: list[Contact] = []
        self._contacts_read: tuple[Path, float] | None = None  # the file and mtime read

    async def refresh(self) -> None:
        """Count the messages stored since the last time, and read the vCard file if changed."""
        async with self._refreshing:
            while True:  # in batches, each its own transaction: a sync may write in between
                async with self.store.session() as session:
                    if not await address_queries.refresh_addresses(session):
                        break
            async with self.store.session() as session:  # brings the table into the cache
                await address_queries.matching_addresses(session, "a", int(self.clock()), 1)
        await self._read_contacts()

    async def _read_contacts(self) -> None:
        if self.contacts_file is None:
            return
        path = self.contacts_file.expanduser()
        try:
            mtime = path.stat().st_mtime
            if self._contacts_read == (path, mtime):
                return
            text = await asyncio.to_thread(path.read_text, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            self._contacts, self._contacts_read = [], None  # the config check warned at start
            return
        except OSError as exc:
            raise ConfigError(f"ui.contacts: cannot read {path}: {exc.strerror or exc}") from None
        self._contacts = await asyncio.to_thread(parse_vcards, text)
        self._contacts_read = (path, mtime)

    async def complete(self, fragment: str, limit: int = 8) -> list[AddressSuggestion]:
        """Addresses starting with ``fragment`` (address, name or a word of it), best first."""
        key = " ".join(fragment.casefold().split())
        if not key:
            return []
        return await self._merged(key, limit, [])

    async def ask_command(self, fragment: str, limit: int = 8) -> list[AddressSuggestion] | None:
        """``complete`` with address_book_command's answer merged in; None without a command,
        or when it did not answer within ``command_timeout`` (its answer is dropped)."""
        key = " ".join(fragment.casefold().split())
        if self.command is None or not key:
            return None
        try:
            answer = await address_command.query(
                self.command, fragment.strip(), self.command_timeout
            )
        except TimeoutError:
            log.info(
                "address_book_command took over %g s; its answer is dropped", self.command_timeout
            )
            return None
        return await self._merged(key, limit, answer)

    async def listing(self, fragment: str, limit: int) -> list[AddressSuggestion]:
        """Every known address matching ``fragment`` (all, ranked, when empty), the command's
        too: for ``tuimail contacts``, which waits for the command up to its time limit."""
        key = " ".join(fragment.casefold().split())
        found = await self.ask_command(fragment, limit) if key else None
        if found is not None:
            return found
        if key:
            return await self._merged(key, limit, [])
        async with self.store.session() as session:
            stored = await address_queries.ranked_addresses(session, int(self.clock()), limit)
        return merge_suggestions(stored, self._contacts, limit, self.own)

    async def _merged(
        self, key: str, limit: int, answer: Sequence[Contact]
    ) -> list[AddressSuggestion]:
        async with self.store.session() as session:
            stored = await address_queries.matching_addresses(
                session, key, int(self.clock()), limit
            )
        # The command chose its matches itself (khard searches every field of a card).
        contacts = [c for c in self._contacts if contact_matches(c, key)] + list(answer)
        own = [c for c in self.own if contact_matches(c, key)]
        return merge_suggestions(stored, contacts, limit, own)

    async def record_written(self, addresses: Iterable[tuple[str, str]]) -> None:
        """Count (name, address) pairs as written to now: Bcc, which no Sent copy keeps."""
        pairs = [pair for pair in addresses if pair[1]]
        if pairs:
            async with self.store.session() as session:
                await address_queries.record_written(session, pairs, int(self.clock()))
