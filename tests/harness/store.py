"""Fixtures for an isolated data directory and an open store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tuimail.store.db import Store, open_store


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private data dir and config path, so no test touches the user's own files."""
    directory = tmp_path / "data"
    monkeypatch.setenv("TUIMAIL_DATA_DIR", str(directory))
    monkeypatch.setenv("TUIMAIL_CONFIG", str(tmp_path / "config.toml"))
    yield directory


@pytest.fixture
async def store(data_dir: Path) -> AsyncIterator[Store]:
    """An open, migrated store in the test's data dir."""
    opened = await open_store(data_dir / "mail.sqlite3")
    yield opened
    await opened.close()
