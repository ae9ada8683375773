"""Search queries against a real store filled with generated mail."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.ui.mailstore import fill_store
from tuimail.mail.query import parse_query
from tuimail.store.db import Store, open_store
from tuimail.store.search_queries import fts_string, like_pattern, search


@pytest.fixture
async def filled(tmp_path: Path) -> AsyncIterator[tuple[Store, dict[str, int]]]:
    store = await open_store(tmp_path / "mail.sqlite3")
    folders = await fill_store(store, count=120)
    try:
        yield store, folders
    finally:
        await store.close()


async def ids_where(store: Store, where: str) -> list[int]:
    async with store.session() as session:
        rows = await session.execute(
            text(f"SELECT id FROM messages m WHERE {where} ORDER BY date DESC, id DESC")
        )
        return [int(r[0]) for r in rows]


async def find(store: Store, query: str, folder: int | None = None) -> list[int]:
    async with store.session() as session:
        return await search(session, parse_query(query), folder)


async def test_flags_match_the_stored_columns(filled: tuple[Store, dict[str, int]]) -> None:
    store, _ = filled
    unread = await find(store, "is:unread")
    assert unread and unread == await ids_where(store, "seen = 0")
    assert await find(store, "is:flagged") == await ids_where(store, "flagged = 1")
    assert await find(store, "has:attachment") == await ids_where(store, "has_attachments = 1")
    everything = await ids_where(store, "1")
    assert sorted(await find(store, "is:unread OR -is:unread")) == sorted(everything)


async def test_from_matches_name_or_address_newest_first(
    filled: tuple[Store, dict[str, int]],
) -> None:
    store, _ = filled
    async with store.session() as session:
        sender = (await session.execute(text("SELECT from_email FROM messages LIMIT 1"))).scalar()
    assert isinstance(sender, str) and "@" in sender
    found = await find(store, f"from:{sender.upper()}")
    expected = await ids_where(store, f"lower(from_email) LIKE '%{sender.lower()}%'")
    assert found == expected


async def test_subject_phrase_and_words_use_the_index(filled: tuple[Store, dict[str, int]]) -> None:
    store, _ = filled
    async with store.session() as session:
        pk, subject = (
            await session.execute(text("SELECT id, subject FROM messages WHERE subject LIKE '% %'"))
        ).first() or (None, "")
    words = [w for w in subject.split() if w.isalnum()][:2]
    assert pk is not None and len(words) == 2
    assert pk in await find(store, f'subject:"{words[0]} {words[1]}"')
    assert pk in await find(store, f"{words[0]} {words[1]}")
    assert pk not in await find(store, f"-subject:{words[0]}")


async def test_dates_split_the_mail_in_two(filled: tuple[Store, dict[str, int]]) -> None:
    store, _ = filled
    everything = await ids_where(store, "1")
    before = await find(store, "before:2026-01-01")
    after = await find(store, "after:2026-01-01")
    assert before and after
    assert sorted(before + after) == sorted(everything)


async def test_a_folder_limits_the_results(filled: tuple[Store, dict[str, int]]) -> None:
    store, folders = filled
    archive = folders["Archive"]
    found = await find(store, "is:unread OR is:read", archive)
    assert found == await ids_where(store, f"folder_id = {archive}")


@pytest.mark.parametrize(
    "query",
    ['"NEAR(a b)"', "a*", 'subject:"x"" OR y"', "'; DROP TABLE messages; --", "^start", "from:%_"],
)
async def test_user_text_is_never_fts_or_sql_syntax(
    filled: tuple[Store, dict[str, int]], query: str
) -> None:
    store, _ = filled
    await find(store, query)  # no OperationalError
    assert await ids_where(store, "1")


def test_quoting_helpers() -> None:
    assert fts_string('say "hi"', prefix=False) == '"say ""hi"""'
    assert fts_string("lun", prefix=True) == '"lun" *'
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


SEARCH_ONCE = """
import asyncio, json, sys
from pathlib import Path
from tuimail.mail.query import parse_query
from tuimail.store.db import open_store
from tuimail.store.search_queries import search

async def main():
    store = await open_store(Path(sys.argv[1]))
    async with store.session() as session:
        found = await search(session, parse_query(sys.argv[2]))
    await store.close()
    print(json.dumps({"found": len(found), "read_text": "tuimail.mail.search_text" in sys.modules}))

asyncio.run(main())
"""


async def test_a_first_search_with_no_bodies_waiting_does_not_load_the_body_readers(
    tmp_path: Path,
) -> None:
    store = await open_store(tmp_path / "mail.sqlite3")
    try:
        await fill_store(store, count=30)
        async with store.session() as session:
            subject = (await session.execute(text("SELECT subject FROM messages LIMIT 1"))).scalar()
    finally:
        await store.close()
    word = str(subject).split()[0]
    # A fresh process, as the interface's first `/` is: the MIME and HTML readers cost it
    # 77 ms of 170 ms on the 100k bench store, for bodies that were not there to read.
    done = subprocess.run(
        [sys.executable, "-c", SEARCH_ONCE, str(tmp_path / "mail.sqlite3"), f"subject:{word}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    figures = json.loads(done.stdout)
    assert figures["found"] > 0
    assert figures["read_text"] is False
