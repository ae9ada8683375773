"""The outbox: a message is committed to the store before it is sent, and leaves it only once
the server has accepted it and we have followed up (Sent copy, origin flag).

One attempt, step by step, and what a crash at each point means:

1. ``submit`` commits the message as ``queued``. Nothing is sent yet.
2. ``flush`` commits ``sending`` before it connects. A crash from here until step 3 leaves the
   row in ``sending``; the next flush puts it back in the queue and sends it again. If the crash
   came after the server had accepted the end of DATA but before step 3 was committed (one local
   transaction), the recipients get the message twice, with the same Message-ID. SMTP cannot
   avoid that (RFC 1047); every other crash point sends it exactly once.
3. Accepted: ``sent`` is committed. From here on the message is never submitted again.
4. The copy goes to ``sent_sink`` and the origin (the message replied to or forwarded) is marked
   through ``mark_origin``. A failure of either is reported, never retried as a send. A crash
   here repeats step 4 on the next flush, so a sink may see the same message twice.
5. The row is deleted. If the Sent copy failed (the IMAP server down, a folder it refused), the
   row stays ``sent`` with ``last_error`` "Sent copy pending: ..." instead, and each later flush
   tries the copy again until it is stored: the mail went out, its copy must not be lost.

Failures: a ``TemporarySendError`` (network, timeout, 4xx) keeps the message queued with
``last_error`` and an exponential backoff (30 s doubling to one hour, jittered); a
``PermanentSendError`` (5xx) marks it ``failed`` and keeps it to be edited, requeued or deleted.
Login, TLS, password and config problems are about the account, not the message: it stays
queued, and the account's other messages wait for the next flush.

Partial refusal: the message counts as sent as soon as one recipient accepted it. Recipients
refused with 5xx are reported per recipient in the ``Delivery`` and not retried; recipients
refused with 4xx get a new outbox entry of their own (same bytes, only those recipients), queued
with backoff, whose ``last_error`` names them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Literal, Protocol

from tuimail import secrets
from tuimail.config import AccountConfig
from tuimail.config_plain import command_words
from tuimail.errors import ConfigError, ProtocolError, SecretError, TuimailError
from tuimail.mail.parse import envelope_from_bytes
from tuimail.protocols import sendmail, smtp
from tuimail.protocols.smtp import PermanentSendError, SendResult, SmtpSettings, TemporarySendError
from tuimail.protocols.tls import client_context
from tuimail.store import outbox_queries as oq
from tuimail.store import queries
from tuimail.store.db import Store

log = logging.getLogger(__name__)

BACKOFF_FIRST = 30
BACKOFF_MAX = 3600
LATE_AFTER = 120  # a cron or systemd timer flushing every minute is not late

SentSink = Callable[[str, bytes], Awaitable[None]]
"""Called with (account name, raw bytes) once the server accepted a message."""
MarkOrigin = Callable[[int, str], Awaitable[None]]
"""Called with (origin message pk, action such as "answered" or "forwarded") after sending."""


class SendFunction(Protocol):
    """The shape of ``protocols.smtp.send``, so tests and callers can wrap it."""

    async def __call__(
        self,
        settings: SmtpSettings,
        raw: bytes,
        sender: str,
        recipients: Sequence[str],
        *,
        username: str | None,
        password: str | None,
        oauth2_token: str | None = None,
        password_source: smtp.PasswordSource | None = None,
    ) -> SendResult: ...


@dataclass(frozen=True)
class Delivery:
    """What one flush did with one outbox entry."""

    outbox_id: int
    account: str
    message_id: str
    outcome: Literal["sent", "retry", "failed"]
    error: str = ""  # why it waits or failed; for "sent", who was refused
    accepted: tuple[str, ...] = ()
    refused: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Recipient -> the server's reply, for a message sent to the others."""
    retry_id: int | None = None  # the new entry for recipients refused with 4xx
    next_attempt_at: int | None = None
    follow_up_errors: tuple[str, ...] = ()  # Sent copy or origin mark failed; the mail went out
    late_by: int = 0
    """Seconds past its due time at its first attempt, when more than ``LATE_AFTER``: it came
    due while no tuimail ran (the user is told)."""


@dataclass(frozen=True)
class FlushReport:
    """Everything one flush did, for a notification and the outbox view."""

    deliveries: tuple[Delivery, ...] = ()
    account_errors: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Account -> why none (or no more) of its messages could be tried in this flush."""

    def _with(self, outcome: str) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if d.outcome == outcome)

    @property
    def sent(self) -> tuple[Delivery, ...]:
        """Messages the server accepted (perhaps not for every recipient)."""
        return self._with("sent")

    @property
    def retrying(self) -> tuple[Delivery, ...]:
        """Messages kept in the queue for a later attempt."""
        return self._with("retry")

    @property
    def failed(self) -> tuple[Delivery, ...]:
        """Messages the server refused for good; kept in the outbox as failed."""
        return self._with("failed")


@dataclass(frozen=True)
class _Login:
    settings: SmtpSettings
    username: str
    password: str | None
    oauth2_token: str | None
    password_source: smtp.PasswordSource | None  # the keyring, asked only if the server wants


@dataclass(frozen=True)
class _Program:
    """``sendmail_command``, split into its arguments."""

    command: tuple[str, ...]


def backoff(attempts: int, jitter: float) -> int:
    """Seconds to wait after ``attempts`` failed tries: 30 s doubling to 1 h, minus 0-25 %."""
    doublings = min(max(attempts - 1, 0), 20)
    base: int = min(BACKOFF_MAX, BACKOFF_FIRST << doublings)
    # Jitter spreads the retries of many queued messages (and many clients) after an outage.
    return max(1, round(base * (1 - 0.25 * jitter)))


def smtp_settings(account: AccountConfig, local_hostname: str | None = None) -> SmtpSettings:
    """The SMTP client settings for an account, TLS context included."""
    server = account.smtp
    if server is None:
        raise ConfigError(f"{account.email} has no [smtp] server configured; it cannot send")
    context = (
        client_context(server.tls_ca_file, server.tls_verify) if server.security != "none" else None
    )
    return SmtpSettings(
        host=server.host,
        port=server.port_for("smtp"),
        security=server.security,
        ssl_context=context,
        timeout=server.timeout,
        local_hostname=local_hostname,
    )


class Outbox:
    """Queue and send the messages of the configured accounts."""

    def __init__(
        self,
        store: Store,
        accounts: Mapping[str, AccountConfig],
        *,
        sent_sink: SentSink,
        mark_origin: MarkOrigin | None = None,
        send: SendFunction = smtp.send,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        local_hostname: str | None = None,
        program_timeout: float = sendmail.TIMEOUT,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._sent_sink = sent_sink
        self._mark_origin = mark_origin
        self._send = send
        self._clock = clock
        self._jitter = jitter
        self._local_hostname = local_hostname
        self._program_timeout = program_timeout  # for sendmail_command
        # One flush at a time: a row in "sending" at the start of a flush can then only be
        # left over from a crash (the store's lock file keeps other processes out).
        self._flushing = asyncio.Lock()

    async def submit(
        self,
        account: str,
        raw: bytes,
        sender: str,
        recipients: Sequence[str],
        *,
        origin_pk: int | None = None,
        origin_action: str | None = None,
        send_at: int | None = None,
        draft_raw: bytes | None = None,
    ) -> int:
        """Commit a message to the outbox (nothing is sent yet); returns its outbox id.

        ``send_at``: not before then (undo send's delay, send later); ``draft_raw``: the message
        as composed, which ``take_back`` returns.
        """
        config = self._account(account)
        if not config.can_send:
            raise ConfigError(
                f"account {account!r} has neither an [smtp] server nor a sendmail_command"
            )
        message_id = envelope_from_bytes(raw).message_id or ""
        async with self._store.session() as session:
            account_pk = await queries.ensure_account(session, account, config.kind, config.email)
            outbox_id = await oq.enqueue(
                session,
                account_pk,
                raw,
                sender,
                list(recipients),
                message_id,
                origin_pk=origin_pk,
                origin_action=origin_action,
                now=int(self._clock()),
                send_at=send_at,
                draft_raw=draft_raw,
            )
        log.info("%s: message %s queued as #%d", account, message_id, outbox_id)
        return outbox_id

    async def flush(self, now: float | None = None) -> FlushReport:
        """Send every message that is due; see the module docstring for what each outcome keeps."""
        async with self._flushing:
            moment = int(self._clock() if now is None else now)
            async with self._store.session() as session:
                interrupted = await oq.recover_interrupted(session)
                items = await oq.due(session, moment)
            if interrupted:
                log.warning(
                    "%d message(s) were interrupted while sending; sending again", interrupted
                )
            deliveries: list[Delivery] = []
            account_errors: dict[str, str] = {}
            logins: dict[str, _Login | _Program] = {}
            for item in items:
                if item.status == oq.SENT:
                    deliveries.append(await self._follow_up(item, None, None))
                    continue
                if item.account_name in account_errors:
                    continue
                try:
                    login = logins.get(item.account_name) or await self._login(item.account_name)
                except TuimailError as exc:
                    log.info("%s: cannot send now: %s", item.account_name, exc)
                    account_errors[item.account_name] = str(exc)
                    continue
                logins[item.account_name] = login
                delivery = await self._attempt(item, login, moment, account_errors)
                if delivery is not None:
                    deliveries.append(_with_lateness(delivery, item, moment))
            return FlushReport(tuple(deliveries), MappingProxyType(account_errors))

    async def requeue(self, outbox_id: int) -> None:
        """Try a failed or waiting message again at the next flush."""
        async with self._store.session() as session:
            await oq.requeue(session, outbox_id)

    async def cancel(self, outbox_id: int) -> None:
        """Delete a message that is waiting or failed."""
        async with self._store.session() as session:
            await oq.delete_item(session, outbox_id)

    async def take_back(self, outbox_id: int) -> oq.TakenBack:
        """Take a message out of the outbox before it goes (undo send); MessageNotFound once a
        flush has claimed it."""
        async with self._store.session() as session:
            return await oq.take_back(session, outbox_id)

    async def reschedule(self, outbox_id: int, send_at: int | None) -> None:
        """Send a waiting or failed message at ``send_at`` instead (None: at the next flush)."""
        async with self._store.session() as session:
            await oq.reschedule(session, outbox_id, send_at)

    async def to_draft(self, outbox_id: int) -> int:
        """Move a waiting or failed message to the drafts to be edited; returns the draft id."""
        async with self._store.session() as session:
            return await oq.outbox_to_draft(session, outbox_id, now=int(self._clock()))

    async def items(self) -> list[oq.OutboxItem]:
        """Everything in the outbox, oldest first."""
        async with self._store.session() as session:
            return await oq.list_outbox(session)

    def _account(self, name: str) -> AccountConfig:
        try:
            return self._accounts[name]
        except KeyError:
            raise ConfigError(
                f"account {name!r} has mail in the outbox but is not in the config"
            ) from None

    async def _login(self, name: str) -> _Login | _Program:
        account = self._account(name)
        if account.sendmail_command is not None:
            return _Program(tuple(command_words(account.sendmail_command)))
        settings = smtp_settings(account, self._local_hostname)
        server = account.smtp
        assert server is not None  # smtp_settings checked it
        username = server.username or account.email
        if secrets.has_credentials(server):
            token = await secrets.get_oauth2_token(name, "smtp", server)
            password = None if token else await secrets.get_password(name, "smtp", server, username)
            return _Login(settings, username, password, token, None)
        # Nothing configured: a relay may need no login at all, so the keyring waits until
        # the server offers AUTH.
        keyring = partial(secrets.get_password, name, "smtp", server, username)
        return _Login(settings, username, None, None, keyring)

    async def _attempt(
        self,
        item: oq.OutboxItem,
        login: _Login | _Program,
        now: int,
        account_errors: dict[str, str],
    ) -> Delivery | None:
        async with self._store.session() as session:
            attempts = await oq.mark_sending(session, item.id)
            if attempts is None:  # cancelled or taken back as a draft meanwhile
                return None
            raw = await oq.load_raw(session, item.id)
        # "sending" is committed: from here a crash means "send again" (module docstring, 2).
        try:
            if isinstance(login, _Program):
                result = await sendmail.send(
                    login.command, raw, item.recipients, timeout=self._program_timeout
                )
            else:
                result = await self._send(
                    login.settings,
                    raw,
                    item.sender,
                    item.recipients,
                    username=login.username,
                    password=login.password,
                    oauth2_token=login.oauth2_token,
                    password_source=login.password_source,
                )
        except PermanentSendError as exc:
            async with self._store.session() as session:
                await oq.mark_failed(session, item.id, str(exc))
            log.warning("%s: message #%d refused for good: %s", item.account_name, item.id, exc)
            return Delivery(item.id, item.account_name, item.message_id, "failed", str(exc))
        except (ProtocolError, SecretError) as exc:  # temporary, or a login/TLS/password problem
            # of the whole account (the keyring is asked once the server wants a login)
            if not isinstance(exc, TemporarySendError) or exc.server_unavailable:
                account_errors[item.account_name] = str(exc)
            return await self._retry_later(item, attempts, now, str(exc))
        return await self._accepted(item, raw, result, now)

    async def _retry_later(
        self, item: oq.OutboxItem, attempts: int, now: int, error: str
    ) -> Delivery:
        next_attempt_at = now + backoff(attempts, self._jitter())
        async with self._store.session() as session:
            await oq.mark_temporary_failure(session, item.id, error, next_attempt_at)
        log.info("%s: message #%d will be retried: %s", item.account_name, item.id, error)
        return Delivery(
            item.id,
            item.account_name,
            item.message_id,
            "retry",
            error,
            next_attempt_at=next_attempt_at,
        )

    async def _accepted(
        self, item: oq.OutboxItem, raw: bytes, result: SendResult, now: int
    ) -> Delivery:
        note = _refusal_note(result)
        retry_id = None
        async with self._store.session() as session:
            if result.temporarily_refused:
                retry_id = await oq.enqueue(
                    session,
                    item.account_id,
                    raw,
                    item.sender,
                    result.temporarily_refused,
                    item.message_id,
                    now=now,
                )
                await oq.mark_temporary_failure(
                    session,
                    retry_id,
                    "refused for now: " + ", ".join(result.temporarily_refused),
                    now + backoff(1, self._jitter()),
                )
            await oq.mark_accepted(session, item.id, note)
        # "sent" is committed: this message is never submitted again.
        return await self._follow_up(item, raw, result, retry_id=retry_id)

    async def _follow_up(
        self,
        item: oq.OutboxItem,
        raw: bytes | None,
        result: SendResult | None,
        retry_id: int | None = None,
    ) -> Delivery:
        if raw is None:
            async with self._store.session() as session:
                raw = await oq.load_raw(session, item.id)
        problems: list[str] = []
        copy_error: str | None = None
        try:
            await self._sent_sink(item.account_name, raw)
        except Exception as exc:  # the caller's code: whatever it raises, the mail went out
            log.warning("%s: saving the Sent copy failed", item.account_name, exc_info=True)
            copy_error = str(exc) or type(exc).__name__
            problems.append(
                f"the message was sent, but its Sent copy was not saved ({copy_error}); "
                "it stays in the outbox and the copy is tried again at the next send"
            )
        origin_marked = True
        if self._mark_origin is not None and item.origin_pk is not None and item.origin_action:
            try:
                await self._mark_origin(item.origin_pk, item.origin_action)
            except Exception as exc:  # as above: report it, never send again because of it
                log.warning("%s: marking the original failed", item.account_name, exc_info=True)
                problems.append(f"the message was sent, but the original was not marked: {exc}")
                origin_marked = False
        async with self._store.session() as session:
            if copy_error is None:
                await oq.mark_sent(session, item.id)
            else:
                await oq.mark_copy_pending(
                    session, item.id, copy_error, origin_marked=origin_marked
                )
        log.info("%s: message #%d sent", item.account_name, item.id)
        earlier = "" if item.last_error.startswith(oq.COPY_PENDING) else item.last_error
        return Delivery(
            item.id,
            item.account_name,
            item.message_id,
            "sent",
            error=earlier if result is None else _refusal_note(result),
            accepted=result.accepted if result else item.recipients,
            refused=result.refused if result else MappingProxyType({}),
            retry_id=retry_id,
            follow_up_errors=tuple(problems),
        )


def _with_lateness(delivery: Delivery, item: oq.OutboxItem, now: int) -> Delivery:
    late_by = now - item.send_at if item.send_at and item.attempts == 0 else 0
    return dataclasses.replace(delivery, late_by=late_by) if late_by > LATE_AFTER else delivery


def _refusal_note(result: SendResult) -> str:
    return "; ".join(f"{recipient}: {reply}" for recipient, reply in result.refused.items())
