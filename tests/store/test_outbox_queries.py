"""Outbox and draft rows: the state machine the outbox service relies on."""

from __future__ import annotations

import pytest

from tuimail.errors import MessageNotFound
from tuimail.store import outbox_queries as oq
from tuimail.store import queries
from tuimail.store.db import Store

RAW = b"From: me@example.org\r\nTo: ann@example.com\r\nSubject: hi\r\n\r\nhello\r\n"


async def account(store: Store, name: str = "work") -> int:
    async with store.session() as session:
        return await queries.ensure_account(session, name, "imap", f"me@{name}.example")


async def queued(store: Store, account_pk: int, **extra: object) -> int:
    async with store.session() as session:
        return await oq.enqueue(
            session,
            account_pk,
            RAW,
            "me@example.org",
            ["ann@example.com", "bob@example.com"],
            "<m1@example.org>",
            now=1000,
            **extra,  # type: ignore[arg-type]
        )


async def test_an_enqueued_message_is_listed_with_its_envelope_and_due_at_once(store: Store):
    work = await account(store)
    pk = await queued(store, work, origin_action="answered")
    async with store.session() as session:
        (item,) = await oq.list_outbox(session)
        assert await oq.load_raw(session, pk) == RAW
        assert [i.id for i in await oq.due(session, now=1000)] == [pk]
    assert item.account_name == "work"
    assert item.recipients == ("ann@example.com", "bob@example.com")
    assert (item.status, item.attempts, item.last_error) == ("queued", 0, "")
    assert (item.created_at, item.next_attempt_at, item.size) == (1000, 0, len(RAW))
    assert (item.origin_pk, item.origin_action) == (None, "answered")


async def test_enqueue_refuses_recipients_that_would_corrupt_the_list(store: Store):
    work = await account(store)
    async with store.session() as session:
        for bad in ([], ["a@b.c\nevil@x.y"], [" "]):
            with pytest.raises(ValueError):
                await oq.enqueue(session, work, RAW, "me@x.y", bad, "<id@x>")


async def test_list_outbox_filters_by_account(store: Store):
    work, home = await account(store, "work"), await account(store, "home")
    await queued(store, work)
    home_pk = await queued(store, home)
    async with store.session() as session:
        assert [i.id for i in await oq.list_outbox(session, home)] == [home_pk]
        assert len(await oq.list_outbox(session)) == 2


async def test_a_temporary_failure_waits_until_its_next_attempt(store: Store):
    pk = await queued(store, await account(store))
    async with store.session() as session:
        assert await oq.mark_sending(session, pk) == 1
        assert await oq.due(session, now=2000) == []  # not while it is being sent
        await oq.mark_temporary_failure(session, pk, "451 try later", next_attempt_at=2030)
        assert await oq.due(session, now=2029) == []
        (item,) = await oq.due(session, now=2030)
    assert (item.status, item.attempts, item.last_error) == ("queued", 1, "451 try later")


async def test_mark_sending_claims_only_a_queued_message(store: Store):
    pk = await queued(store, await account(store))
    async with store.session() as session:
        assert await oq.mark_sending(session, pk) == 1
        assert await oq.mark_sending(session, pk) is None
        await oq.mark_failed(session, pk, "554 no")
        assert await oq.mark_sending(session, pk) is None
        assert await oq.mark_sending(session, 9999) is None


async def test_a_crash_while_sending_puts_the_message_back_in_the_queue(store: Store):
    pk = await queued(store, await account(store))
    async with store.session() as session:
        await oq.mark_sending(session, pk)
    async with store.session() as session:
        assert await oq.recover_interrupted(session) == 1
        (item,) = await oq.due(session, now=1000)
    assert (item.id, item.status, item.attempts) == (pk, "queued", 1)


async def test_an_accepted_message_is_due_for_follow_up_but_never_claimed_again(store: Store):
    pk = await queued(store, await account(store))
    async with store.session() as session:
        await oq.mark_sending(session, pk)
        await oq.mark_accepted(session, pk)
        assert await oq.recover_interrupted(session) == 0
        (item,) = await oq.due(session, now=0)
        assert item.status == "sent"
        assert await oq.mark_sending(session, pk) is None
        await oq.mark_sent(session, pk)
        assert await oq.list_outbox(session) == []


async def test_a_failed_message_is_kept_until_requeued(store: Store):
    pk = await queued(store, await account(store))
    async with store.session() as session:
        await oq.mark_sending(session, pk)
        await oq.mark_failed(session, pk, "554 5.7.1 rejected")
        assert await oq.due(session, now=10**10) == []
        (item,) = await oq.list_outbox(session)
        assert (item.status, item.last_error) == ("failed", "554 5.7.1 rejected")
        await oq.requeue(session, pk)
        (again,) = await oq.due(session, now=0)
    assert (again.status, again.attempts, again.next_attempt_at) == ("queued", 0, 0)


async def test_a_message_being_sent_cannot_be_requeued_or_deleted(store: Store):
    pk = await queued(store, await account(store))
    async with store.session() as session:
        await oq.mark_sending(session, pk)
        with pytest.raises(MessageNotFound, match="being sent"):
            await oq.requeue(session, pk)
        with pytest.raises(MessageNotFound):
            await oq.delete_item(session, pk)
        with pytest.raises(MessageNotFound, match="no longer"):
            await oq.requeue(session, 9999)


async def test_a_failed_message_can_be_taken_back_as_a_draft(store: Store):
    work = await account(store)
    pk = await queued(store, work)
    async with store.session() as session:
        await oq.mark_sending(session, pk)
        await oq.mark_failed(session, pk, "554")
        draft_id = await oq.outbox_to_draft(session, pk, now=3000)
        assert await oq.list_outbox(session) == []
        draft = await oq.load_draft(session, draft_id)
    assert (draft.account_id, draft.raw, draft.updated_at) == (work, RAW, 3000)


async def test_drafts_are_saved_overwritten_listed_and_deleted(store: Store):
    work, home = await account(store, "work"), await account(store, "home")
    async with store.session() as session:
        first = await oq.save_draft(session, work, b"v1", now=10)
        assert await oq.save_draft(session, work, b"v2", first, now=20) == first
        second = await oq.save_draft(session, home, b"other", now=15)
        assert [d.id for d in await oq.list_drafts(session)] == [first, second]
        assert [d.raw for d in await oq.list_drafts(session, home)] == [b"other"]
        assert (await oq.load_draft(session, first)).raw == b"v2"
        await oq.delete_draft(session, first)
        await oq.delete_draft(session, first)  # a second delete is harmless
        with pytest.raises(MessageNotFound):
            await oq.load_draft(session, first)


async def test_saving_over_a_deleted_draft_creates_a_new_one(store: Store):
    work = await account(store)
    async with store.session() as session:
        gone = await oq.save_draft(session, work, b"v1")
        await oq.delete_draft(session, gone)
        again = await oq.save_draft(session, work, b"v2", gone)
        assert (await oq.load_draft(session, again)).raw == b"v2"
