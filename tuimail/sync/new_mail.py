"""Which mail is news: what came in since the last report, from outside.

A folder's first sync fills the store with mail that was there all along, and a message the
user moves or copies comes back from the server as a new row in its target folder; neither is
worth a bell. So each account has a mark (its newest message and the folders it had synced when
news was last reported), and the service tells the tracker which messages the user placed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from tuimail.errors import MessageNotFound
from tuimail.store import new_mail_queries, queries, ui_queries
from tuimail.store.db import Store
from tuimail.sync.interface import NewMail

PLACED_KEPT = 5000  # Message-IDs of messages the user moved or copied, newest kept


@dataclass(frozen=True, slots=True)
class _Mark:
    newest: int
    synced: frozenset[int]


class NewMailTracker:
    """Turns sync passes into ``NewMail`` reports: each arrival once, and only real news."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._marks: dict[str, _Mark] = {}
        self._placed: OrderedDict[str, None] = OrderedDict()

    def placed(self, header_ids: Iterable[str]) -> None:
        """The user moved or copied these messages: their copies on the server are not news."""
        for header_id in header_ids:
            if header_id:
                self._placed[header_id] = None
                self._placed.move_to_end(header_id)
        while len(self._placed) > PLACED_KEPT:
            self._placed.popitem(last=False)

    async def start(self, account: str) -> None:
        """Mark where an account stands before its first pass (later passes move the mark)."""
        if account not in self._marks:
            self._marks[account] = await self._mark(account)

    async def arrived(self, account: str) -> NewMail | None:
        """What came in since the last report (or ``start``), and move the mark past it."""
        after = await self._mark(account)
        before = self._marks.get(account)  # read and moved with no await between: one report
        if before is not None and after.newest <= before.newest:
            return None
        self._marks[account] = after
        if before is None:
            return None
        async with self.store.session() as session:
            try:
                account_pk = await queries.account_id(session, account)
            except MessageNotFound:
                return None
            found = await new_mail_queries.unread_arrivals(
                session, account_pk, (before.newest, after.newest), before.synced
            )
        news = [a for a in found if a.message_id not in self._placed]
        if not news:
            return None
        newest = news[0]
        sender = newest.from_name or newest.from_email
        return NewMail(account, len(news), newest.folder, sender, newest.subject)

    async def _mark(self, account: str) -> _Mark:
        async with self.store.session() as session:
            try:
                account_pk = await queries.account_id(session, account)
            except MessageNotFound:
                return _Mark(0, frozenset())
            newest = await ui_queries.newest_message_id(session, account_pk)
            synced = await new_mail_queries.synced_folders(session, account_pk)
        return _Mark(newest, synced)
