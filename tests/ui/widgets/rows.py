"""Index rows made in memory, for widget tests that need no store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tuimail.store.records import MessageRow

T0 = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def make_row(pk: int, folder: int = 1) -> MessageRow:
    """A plausible unread row whose subject names its id."""
    return MessageRow(
        id=pk,
        folder_id=folder,
        uid=None,
        uidl=None,
        message_id=f"<{pk}@example.org>",
        in_reply_to=None,
        references=(),
        thread_id=None,
        date=T0 - timedelta(minutes=pk),
        from_name="Ann Example",
        from_email="ann@example.org",
        to_addrs="bob@example.org",
        cc_addrs="",
        subject=f"Message {pk}",
        seen=False,
        answered=False,
        flagged=False,
        deleted=False,
        draft=False,
        forwarded=False,
        keywords=(),
        size=1234,
        has_attachments=False,
        preview="",
    )
