"""The demo's IMAP server (pymap) and the paperclip: has:attachment finds what has files."""

from __future__ import annotations

import pytest

from tests.demo.test_servers import loaded, servers  # noqa: F401 (fixtures)
from tuimail.config import LoadedConfig
from tuimail.demo.servers import DemoServers
from tuimail.mail.parse import envelope_from_bytes
from tuimail.mail.query import parse_query
from tuimail.store import queries, search_queries
from tuimail.store.db import Store
from tuimail.sync.accounts import sync_account

pytestmark = pytest.mark.timeout(60)


async def test_has_attachment_finds_the_demo_messages_with_files_after_a_sync(
    store: Store,
    servers: DemoServers,  # noqa: F811
    loaded: LoadedConfig,  # noqa: F811
) -> None:
    result = await sync_account(store, "demo", loaded.account("demo"))
    assert result.ok, result.summary
    async with store.session() as session:
        found = await search_queries.search(session, parse_query("has:attachment"))
        rows = await queries.messages_by_ids(session, found)
    assert any("Server maintenance tonight" in row.subject for row in rows)
    with_files = {
        envelope_from_bytes(message.raw).message_id
        for folder in servers.folders
        for message in folder.messages
        if envelope_from_bytes(message.raw).has_attachments
    }
    assert {row.message_id for row in rows} == with_files
