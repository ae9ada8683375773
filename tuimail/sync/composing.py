"""``StoreComposer``: the compose screen's ``ComposeService`` (``sync.interface``): prefilled
drafts, autosave, postpone, send.

``StoreComposer`` joins ``mail.compose`` (replies and forwards as drafts), ``sync.sending``
(identities, the outbox, drafts in the store) and the reading service (a message's bytes).
Submitting only commits to the outbox; ``flush`` is the network part, run by the UI in a worker.
Address completion is ``sync.address_book``'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import getaddresses

from tuimail.config import LoadedConfig
from tuimail.errors import MessageNotFound
from tuimail.mail import compose
from tuimail.mail.compose import Draft, Identity, ReplyMode
from tuimail.mail.parse import envelope_from_bytes
from tuimail.mail.vcard import Contact
from tuimail.store import outbox_queries, queries, ui_queries
from tuimail.store.db import Store
from tuimail.sync.address_book import AddressBook
from tuimail.sync.identities import identities, new_draft
from tuimail.sync.imap_pool import ImapRemote
from tuimail.sync.interface import (
    AddressSuggestion,
    DraftSummary,
    MailService,
    Origin,
    WaitingMessage,
)
from tuimail.sync.sending import Drafts, Sending

SERVER_DRAFTS = 200  # the newest messages of a Drafts folder the list offers


class StoreComposer:
    """``ComposeService`` over the store, the outbox and the reading service."""

    def __init__(
        self,
        store: Store,
        loaded: LoadedConfig,
        mail: MailService,
        *,
        clock: Callable[[], float] = time.time,
        remote: ImapRemote | None = None,
    ) -> None:
        self.store = store
        self.loaded = loaded
        self.mail = mail
        # ``remote``: the reading service's kept IMAP connections, shared for Sent and Drafts.
        self.sending = Sending(store, loaded, remote)
        self.saved_drafts = Drafts(store, loaded, remote)
        own = [
            Contact(identity.display_name, identity.email)
            for account in loaded.accounts.values()
            for identity in identities(account)
        ]
        ui = loaded.config.ui
        self.address_book = AddressBook(
            store,
            ui.contacts,
            clock=clock,
            own=own,
            command=ui.address_book_command,
            command_timeout=ui.address_book_timeout,
        )

    def identities(self, account: str) -> list[Identity]:
        """The account's From addresses, its main one first."""
        return identities(self.loaded.account(account))

    def new_draft(self, account: str) -> Draft:
        """An empty message from the account's main identity."""
        return new_draft(self.loaded.account(account))

    async def reply(self, account: str, message_id: int, mode: ReplyMode) -> Draft:
        """A reply to a stored message (to the sender, to all, or to the list)."""
        raw = await self.mail.open_message(message_id)
        return compose.reply(raw, self.identities(account), mode=mode)

    async def forward(self, account: str, message_id: int, *, inline: bool = True) -> Draft:
        """A forward of a stored message: inline with its attachments, or attached whole."""
        raw = await self.mail.open_message(message_id)
        identity = compose.pick_identity(raw, self.identities(account))
        return compose.forward(raw, identity, inline=inline)

    async def autosave(self, account: str, draft: Draft, draft_id: int | None) -> int:
        """Keep the draft in the store (crash-proof); returns its id."""
        return await self.saved_drafts.autosave(account, draft, draft_id)

    async def postpone(self, account: str, draft: Draft, draft_id: int | None) -> int:
        """Save the draft and put it in the account's Drafts folder."""
        return await self.saved_drafts.postpone(account, draft, draft_id)

    async def discard(self, draft_id: int) -> None:
        """Forget a saved draft."""
        await self.saved_drafts.discard(draft_id)

    async def submit(
        self,
        account: str,
        draft: Draft,
        draft_id: int | None,
        origin: Origin | None,
        send_at: int | None = None,
    ) -> str:
        """Commit the message to the outbox (no network), due at ``send_at`` or after the
        account's send_delay; returns its Message-ID."""
        msg = compose.draft_to_message(draft)
        _, message_id = await self.sending.submit_message(
            account,
            msg,
            draft.from_identity,
            origin_pk=origin.message_id if origin else None,
            origin_action=origin.action if origin else None,
            send_at=send_at,
        )
        if draft_id is not None:
            await self.saved_drafts.discard(draft_id)
        # To and Cc are counted from the Sent copy; Bcc leaves no trace but here.
        await self.address_book.record_written(getaddresses(list(draft.bcc)))
        return message_id

    async def flush(self, message_id: str) -> str:
        """Send what is due; one line on what became of ``message_id``."""
        report = await self.sending.outbox.flush()
        for delivery in report.deliveries:
            if delivery.message_id != message_id:
                continue
            if delivery.outcome == "sent":
                refused = f"; refused: {', '.join(delivery.refused)}" if delivery.refused else ""
                return f"Sent{refused}"
            if delivery.outcome == "retry":
                return f"Queued, will retry: {delivery.error}"
            return f"Not sent: {delivery.error}"
        for account, error in report.account_errors.items():
            return f"Queued, not sent now ({account}: {error})"
        return "Queued in the outbox"

    async def _waiting_item(
        self, message_id: str, also: str = outbox_queries.QUEUED
    ) -> outbox_queries.OutboxItem | None:
        for item in await self.sending.outbox.items():
            if item.message_id == message_id and item.status in (outbox_queries.QUEUED, also):
                return item
        return None

    async def waiting(self, message_id: str) -> int | None:
        """When ``message_id`` goes (Unix seconds) while it waits and can be taken back."""
        item = await self._waiting_item(message_id)
        return item.send_at if item is not None else None

    async def waiting_messages(self) -> list[WaitingMessage]:
        """The outbox's messages that can still be taken back, the soonest due first."""
        found = []
        for item in await self.sending.outbox.items():
            if item.status not in (outbox_queries.QUEUED, outbox_queries.FAILED):
                continue
            async with self.store.session() as session:
                envelope = envelope_from_bytes(await outbox_queries.load_raw(session, item.id))
            due = max(item.next_attempt_at, item.send_at or 0)
            to = tuple(str(address) for address in envelope.to)
            found.append(
                WaitingMessage(
                    item.message_id,
                    item.account_name,
                    envelope.subject,
                    to,
                    due,
                    item.status,
                    item.last_error,
                )
            )
        return sorted(found, key=lambda waiting: waiting.due)

    async def take_back(self, message_id: str) -> tuple[str, Draft, Origin | None]:
        """Undo send: the message out of the outbox as it was composed."""
        item = await self._waiting_item(message_id, also=outbox_queries.FAILED)
        if item is None:
            raise MessageNotFound("the message is being sent or was sent already")
        taken = await self.sending.outbox.take_back(item.id)
        origin = (
            Origin(taken.origin_pk, taken.origin_action)  # type: ignore[arg-type]
            if taken.origin_pk is not None and taken.origin_action
            else None
        )
        draft = compose.draft_from_bytes(taken.raw, self.identities(item.account_name))
        return item.account_name, draft, origin

    async def flush_due(self) -> list[str]:
        """Send every message that is due; a line for each late one and each failure."""
        report = await self.sending.outbox.flush()
        lines = []
        for delivery in report.deliveries:
            if delivery.outcome == "sent" and delivery.late_by:
                lines.append(
                    f"Sent late (due {delivery.late_by // 60} min ago, tuimail was not running): "
                    f"{delivery.message_id}"
                )
            elif delivery.outcome != "sent":
                lines.append(f"Not sent: {delivery.message_id}: {delivery.error}")
        return lines

    # -- address completion ------------------------------------------------------------------

    async def prepare_completion(self) -> None:
        """Bring the address ranking up to date with the store and read the vCard file."""
        await self.address_book.refresh()

    async def complete(self, fragment: str, limit: int = 8) -> list[AddressSuggestion]:
        """Addresses starting with ``fragment`` (address, name or a word of it), best first."""
        return await self.address_book.complete(fragment, limit)

    async def ask_address_book(
        self, fragment: str, limit: int = 8
    ) -> list[AddressSuggestion] | None:
        """``complete`` with address_book_command's answer; None without one or if too slow."""
        return await self.address_book.ask_command(fragment, limit)

    # -- drafts ------------------------------------------------------------------------------

    async def drafts(self) -> list[DraftSummary]:
        """Saved drafts of every account, most recently edited first, then the messages of
        each account's Drafts folder that are none of them (written elsewhere, or here on
        another machine)."""
        summaries = []
        mine: set[tuple[str, str]] = set()  # (account, subject): a saved draft's own copy
        linked: set[int] = set()
        async with self.store.session() as session:
            for stored in await outbox_queries.list_drafts(session):
                account = await queries.account_name(session, stored.account_id)
                envelope = envelope_from_bytes(stored.raw)
                to = tuple(str(a) for a in envelope.to)
                summaries.append(
                    DraftSummary(stored.id, account, envelope.subject, to, stored.updated_at)
                )
                mine.add((account, envelope.subject))
                if stored.remote_message_pk is not None:
                    linked.add(stored.remote_message_pk)
            for name in self.loaded.accounts:
                try:
                    account_pk = await queries.account_id(session, name)
                except MessageNotFound:  # never synced
                    continue
                ids = await ui_queries.drafts_folder_ids(session, account_pk, SERVER_DRAFTS)
                for row in await queries.messages_by_ids(session, ids):
                    if row.id in linked or (name, row.subject) in mine:
                        continue
                    to = tuple(email for _, email in getaddresses([row.to_addrs]) if email)
                    when = int(row.date.timestamp()) if row.date else 0
                    summaries.append(DraftSummary(0, name, row.subject, to, when, row.id))
        return summaries

    async def adopt_draft(self, message_pk: int) -> int:
        """A message of a Drafts folder as a saved draft (its bytes fetched if need be)."""
        return await self.saved_drafts.adopt(message_pk, await self.mail.open_message(message_pk))

    async def open_draft(self, draft_id: int) -> tuple[str, Draft]:
        """A saved draft to continue: its account and the editable value."""
        return await self.saved_drafts.open(draft_id)
