"""Sending for the whole app: the outbox, and where a sent copy goes.

A sent copy goes to the account's Sent folder: IMAP APPEND with \\Seen for IMAP accounts (the
server's Sent folder is the truth; it reaches the store on the next sync), the local Sent
folder for POP3 accounts. The original of a reply or forward gets \\Answered or $Forwarded.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Sequence
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import format_datetime, localtime
from pathlib import Path
from typing import TYPE_CHECKING

from tuimail.config import AccountConfig, LoadedConfig
from tuimail.errors import ConfigError, MessageNotFound, TuimailError
from tuimail.mail import compose
from tuimail.mail.compose import Draft, Identity
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store import outbox_queries, queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage
from tuimail.sync import actions
from tuimail.sync.identities import identities, identity_for
from tuimail.sync.outbox import Outbox

if TYPE_CHECKING:
    from tuimail.sync.imap_pool import ImapRemote
    from tuimail.sync.imap_remote import StoredCopy

log = logging.getLogger(__name__)

ORIGIN_FLAGS = {"answered": "\\Answered", "forwarded": "$Forwarded"}


class Sending:
    """The outbox of every configured account, with Sent copies and origin flags wired in."""

    def __init__(
        self, store: Store, loaded: LoadedConfig, remote: ImapRemote | None = None
    ) -> None:
        self.store = store
        self.loaded = loaded
        self.remote = remote  # the kept IMAP connections; None: one connection per copy
        self.outbox = Outbox(
            store, loaded.accounts, sent_sink=self._save_sent, mark_origin=self._mark_origin
        )

    def account(self, name: str | None) -> tuple[str, AccountConfig]:
        """The named account, or the first one that can send."""
        if name is not None:
            return name, self.loaded.account(name)
        for candidate, account in self.loaded.accounts.items():
            if account.can_send:
                return candidate, account
        raise ConfigError("no account has an [smtp] server or a sendmail_command configured")

    async def submit_new(
        self,
        account_name: str | None,
        to: Sequence[str],
        cc: Sequence[str],
        bcc: Sequence[str],
        subject: str,
        body: str,
        attachments: Sequence[Path] = (),
        send_at: int | None = None,
    ) -> tuple[int, str]:
        """Build a new message and commit it to the outbox; returns (outbox id, Message-ID)."""
        name, account = self.account(account_name)
        identity = identity_for(account, None)
        msg = compose.new_message(identity, to, cc, bcc, subject, body, attachments)
        return await self.submit_message(name, msg, identity, send_at=send_at)

    async def submit_file(
        self, account_name: str | None, raw: bytes, send_at: int | None = None
    ) -> tuple[int, str]:
        """Queue a complete message from a file; From picks the identity, Bcc leaves the bytes."""
        name, account = self.account(account_name)
        msg = message_from_bytes(raw, policy=compose.POLICY)
        assert isinstance(msg, EmailMessage)
        sender = envelope_from_bytes(raw).from_
        identity = identity_for(account, sender[0].email if sender else None)
        return await self.submit_message(name, msg, identity, send_at=send_at)

    async def submit_message(
        self,
        account_name: str,
        msg: EmailMessage,
        identity: Identity,
        origin_pk: int | None = None,
        origin_action: str | None = None,
        send_at: int | None = None,
    ) -> tuple[int, str]:
        """Finalize ``msg`` (Date, Message-ID, no Bcc) and commit it to the outbox, due at
        ``send_at`` or else after the account's ``send_delay``."""
        raw, sender, recipients = compose.finalize(msg, identity)
        if send_at is None and self.loaded.account(account_name).send_delay:
            send_at = int(time.time()) + self.loaded.account(account_name).send_delay
        outbox_id = await self.outbox.submit(
            account_name,
            raw,
            sender,
            recipients,
            origin_pk=origin_pk,
            origin_action=origin_action,
            send_at=send_at,
            draft_raw=msg.as_bytes(policy=compose.POLICY),  # Bcc kept, no signature yet
        )
        return outbox_id, envelope_from_bytes(raw).message_id or ""

    async def _save_sent(self, account_name: str, raw: bytes) -> None:
        account = self.loaded.account(account_name)
        if account.kind == "imap":
            from tuimail.sync.imap_pool import connection_for
            from tuimail.sync.imap_remote import append_to_role

            async with connection_for(self.remote, account_name, account) as connection:
                await append_to_role(connection, "sent", raw, {"\\Seen"})
            return
        async with self.store.session() as session:
            account_pk = await queries.ensure_account(session, account_name, "pop3", account.email)
            sent = await queries.ensure_folder(
                session, account_pk, "Sent", role="sent", is_local=True
            )
            envelope = envelope_from_bytes(raw)
            await queries.insert_messages(
                session, sent, [NewMessage(envelope, raw=raw, flags=frozenset({"\\Seen"}))]
            )
            await queries.refresh_counts(session, sent)

    async def _mark_origin(self, origin_pk: int, action: str) -> None:
        flag = ORIGIN_FLAGS.get(action)
        if flag is None:
            return
        # Through the action queue, so an IMAP original gets the flag on the server too.
        await actions.set_flags(self.store, [origin_pk], add=frozenset({flag}))


# Each draft's copy on the server carries a random key: draft numbers repeat across machines
# (each store counts from 1), and a SEARCH for "3" finds "13" too. Drafts saved before the key
# was random carry their number; the exact comparison before an expunge keeps those safe.
DRAFT_HEADER = "X-Tuimail-Draft"


def draft_key(raw: bytes) -> str | None:
    """The key a stored draft's bytes carry in ``DRAFT_HEADER``, if any."""
    value = BytesHeaderParser(policy=compat32).parsebytes(raw).get(DRAFT_HEADER)
    key = " ".join(str(value).split()) if value is not None else ""
    return key or None


class Drafts:
    """Drafts: autosaved in the store (crash-proof), postponed to the Drafts folder on demand."""

    def __init__(
        self, store: Store, loaded: LoadedConfig, remote: ImapRemote | None = None
    ) -> None:
        self.store = store
        self.loaded = loaded
        self.remote = remote  # the kept IMAP connections; None: one connection per postpone

    def to_bytes(self, draft: Draft, key: str) -> bytes:
        """The draft as a message (Bcc kept: it is needed to continue), tagged with its key."""
        msg = compose.draft_to_message(draft)
        msg["Date"] = format_datetime(localtime())
        msg[DRAFT_HEADER] = key
        return msg.as_bytes(policy=compose.POLICY)

    async def autosave(self, account_name: str, draft: Draft, draft_id: int | None = None) -> int:
        """Commit the draft to the store; returns its id (the same id on every later save)."""
        saved, _raw, _key = await self._save(account_name, draft, draft_id)
        return saved

    async def _save(
        self, account_name: str, draft: Draft, draft_id: int | None
    ) -> tuple[int, bytes, str]:
        account = self.loaded.account(account_name)
        async with self.store.session() as session:
            account_pk = await queries.ensure_account(
                session, account_name, account.kind, account.email
            )
            key = None
            # A draft gone meanwhile (sent from another window) is saved as a new one.
            with contextlib.suppress(MessageNotFound):
                if draft_id is not None:
                    key = draft_key((await outbox_queries.load_draft(session, draft_id)).raw)
            key = key or secrets.token_hex(16)
            raw = self.to_bytes(draft, key)
            saved = await outbox_queries.save_draft(session, account_pk, raw, draft_id)
        return saved, raw, key

    async def postpone(self, account_name: str, draft: Draft, draft_id: int | None = None) -> int:
        """Save the draft and put (or replace) its copy in the account's Drafts folder."""
        draft_id, raw, key = await self._save(account_name, draft, draft_id)
        account = self.loaded.account(account_name)
        if account.kind == "imap":
            from tuimail.sync.imap_pool import connection_for
            from tuimail.sync.imap_remote import replace_in_role

            also = await self._server_copy(draft_id)  # reopened from the server's Drafts
            async with connection_for(self.remote, account_name, account) as connection:
                await replace_in_role(
                    self.store,
                    connection,
                    "drafts",
                    raw,
                    {"\\Draft", "\\Seen"},
                    DRAFT_HEADER,
                    [key],
                    also,
                )
            return draft_id
        async with self.store.session() as session:
            account_pk = await queries.account_id(session, account_name)
            folder = await queries.ensure_folder(
                session, account_pk, "Drafts", role="drafts", is_local=True
            )
            stored = await outbox_queries.load_draft(session, draft_id)
            if stored.remote_message_pk is not None:
                await queries.delete_messages(session, [stored.remote_message_pk])
            [pk] = await queries.insert_messages(
                session,
                folder,
                [
                    NewMessage(
                        envelope_from_bytes(raw), raw=raw, flags=frozenset({"\\Draft", "\\Seen"})
                    )
                ],
            )
            await outbox_queries.link_draft(session, draft_id, pk)
            await queries.refresh_counts(session, folder)
        return draft_id

    async def adopt(self, message_pk: int, raw: bytes) -> int:
        """Make a message of a Drafts folder (``raw``, its bytes) a saved draft; returns its id.

        The draft remembers that message: postponing or discarding it replaces or removes
        that exact copy, even one another client wrote (without our draft header).
        """
        async with self.store.session() as session:
            [row] = await queries.messages_by_ids(session, [message_pk])
            folder = await queries.folder_state(session, row.folder_id)
            draft_id = await outbox_queries.save_draft(session, folder.account_id, raw)
            await outbox_queries.link_draft(session, draft_id, message_pk)
        return draft_id

    async def _server_copy(self, draft_id: int) -> StoredCopy | None:
        """The linked copy in a server's Drafts folder, as the store knows it."""
        from tuimail.sync.imap_remote import StoredCopy

        async with self.store.session() as session:
            linked = (await outbox_queries.load_draft(session, draft_id)).remote_message_pk
            rows = await queries.messages_by_ids(session, [linked] if linked else [])
            if not rows or rows[0].uid is None:
                return None
            folder = await queries.folder_state(session, rows[0].folder_id)
        if folder.is_local or folder.uidvalidity is None:
            return None
        return StoredCopy(folder.name, rows[0].uid, folder.uidvalidity)

    async def open(self, draft_id: int) -> tuple[str, Draft]:
        """Reopen a saved draft: its account and the editable value."""
        async with self.store.session() as session:
            stored = await outbox_queries.load_draft(session, draft_id)
            name = await queries.account_name(session, stored.account_id)
        return name, compose.draft_from_bytes(stored.raw, identities(self.loaded.account(name)))

    async def discard(self, draft_id: int) -> None:
        """Forget a draft (after it was sent or thrown away), with its copy in Drafts.

        An IMAP account's server copy goes first, so a sync cannot bring the draft back; when
        the server cannot be reached, that copy stays (and is logged) and the draft goes.
        """
        async with self.store.session() as session:
            stored = await outbox_queries.load_draft(session, draft_id)
            name = await queries.account_name(session, stored.account_id)
        account = self.loaded.accounts.get(name)
        key = draft_key(stored.raw)
        if account is not None and account.kind == "imap" and key is not None:
            await self._remove_server_copy(name, account, key, await self._server_copy(draft_id))
        async with self.store.session() as session:
            if stored.remote_message_pk is not None:
                await queries.delete_messages(session, [stored.remote_message_pk])
            await outbox_queries.delete_draft(session, draft_id)

    async def _remove_server_copy(
        self, name: str, account: AccountConfig, key: str, also: StoredCopy | None
    ) -> None:
        from tuimail.sync.imap_pool import connection_for
        from tuimail.sync.imap_remote import remove_from_role

        try:
            async with connection_for(self.remote, name, account) as connection:
                await remove_from_role(self.store, connection, "drafts", DRAFT_HEADER, [key], also)
        except (TuimailError, OSError) as error:
            log.warning("%s: the draft's copy in Drafts on the server stays: %s", name, error)
