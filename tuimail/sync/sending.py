"""Sending for the whole app: identities from the config, the outbox, and where a sent copy goes.

A sent copy goes to the account's Sent folder: IMAP APPEND with \\Seen for IMAP accounts (the
server's Sent folder is the truth; it reaches the store on the next sync), the local Sent
folder for POP3 accounts. The original of a reply or forward gets \\Answered or $Forwarded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

from tuimail.config import AccountConfig, LoadedConfig
from tuimail.errors import ConfigError
from tuimail.mail import compose
from tuimail.mail.compose import Identity
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage
from tuimail.sync import actions
from tuimail.sync.outbox import Outbox

log = logging.getLogger(__name__)

ORIGIN_FLAGS = {"answered": "\\Answered", "forwarded": "$Forwarded"}


def identities(account: AccountConfig) -> list[Identity]:
    """The account's From addresses: its main address first, then [[identities]]."""
    main = Identity(account.email, account.display_name, account.signature)
    extra = [Identity(i.email, i.display_name, i.signature) for i in account.identities]
    return [main, *extra]


def identity_for(account: AccountConfig, address: str | None) -> Identity:
    """The identity with ``address`` (case-insensitive), else the main one."""
    pool = identities(account)
    for identity in pool:
        if address and identity.email.casefold() == address.casefold():
            return identity
    return pool[0]


class Sending:
    """The outbox of every configured account, with Sent copies and origin flags wired in."""

    def __init__(self, store: Store, loaded: LoadedConfig) -> None:
        self.store = store
        self.loaded = loaded
        self.outbox = Outbox(
            store, loaded.accounts, sent_sink=self._save_sent, mark_origin=self._mark_origin
        )

    def account(self, name: str | None) -> tuple[str, AccountConfig]:
        """The named account, or the first one that can send."""
        if name is not None:
            return name, self.loaded.account(name)
        for candidate, account in self.loaded.accounts.items():
            if account.smtp is not None:
                return candidate, account
        raise ConfigError("no account has an [smtp] server configured")

    async def submit_new(
        self,
        account_name: str | None,
        to: Sequence[str],
        cc: Sequence[str],
        bcc: Sequence[str],
        subject: str,
        body: str,
        attachments: Sequence[Path] = (),
    ) -> tuple[int, str]:
        """Build a new message and commit it to the outbox; returns (outbox id, Message-ID)."""
        name, account = self.account(account_name)
        identity = identity_for(account, None)
        msg = compose.new_message(identity, to, cc, bcc, subject, body, attachments)
        return await self.submit_message(name, msg, identity)

    async def submit_file(self, account_name: str | None, raw: bytes) -> tuple[int, str]:
        """Queue a complete message from a file; From picks the identity, Bcc leaves the bytes."""
        name, account = self.account(account_name)
        msg = message_from_bytes(raw, policy=compose.POLICY)
        assert isinstance(msg, EmailMessage)
        sender = envelope_from_bytes(raw).from_
        identity = identity_for(account, sender[0].email if sender else None)
        return await self.submit_message(name, msg, identity)

    async def submit_message(
        self,
        account_name: str,
        msg: EmailMessage,
        identity: Identity,
        origin_pk: int | None = None,
        origin_action: str | None = None,
    ) -> tuple[int, str]:
        """Finalize ``msg`` (Date, Message-ID, no Bcc) and commit it to the outbox."""
        raw, sender, recipients = compose.finalize(msg, identity)
        outbox_id = await self.outbox.submit(
            account_name, raw, sender, recipients, origin_pk=origin_pk, origin_action=origin_action
        )
        return outbox_id, envelope_from_bytes(raw).message_id or ""

    async def _save_sent(self, account_name: str, raw: bytes) -> None:
        account = self.loaded.account(account_name)
        if account.kind == "imap":
            from tuimail.sync.imap_sync import append_to_role

            await append_to_role(self.store, account_name, account, "sent", raw, {"\\Seen"})
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
