"""The attachment path completes from the filesystem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuimail.ui.widgets.path_suggester import PathSuggester


async def test_a_path_completes_from_the_directory_it_names(tmp_path: Path) -> None:
    (tmp_path / "report-2026.pdf").write_bytes(b"%PDF")
    (tmp_path / "receipts").mkdir()
    (tmp_path / ".secret").write_text("x")
    suggest = PathSuggester().get_suggestion
    assert await suggest(f"{tmp_path}/rep") == f"{tmp_path}/report-2026.pdf"
    assert await suggest(f"{tmp_path}/rec") == f"{tmp_path}/receipts/"
    assert await suggest(f"{tmp_path}/") == f"{tmp_path}/receipts/", "dot files stay hidden"
    assert await suggest(f"{tmp_path}/.s") == f"{tmp_path}/.secret"
    assert await suggest(f"{tmp_path}/nothing") is None
    assert await suggest(f"{tmp_path}/missing-dir/x") is None


async def test_a_tilde_means_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "notes.txt").write_text("n")
    assert await PathSuggester().get_suggestion("~/no") == "~/notes.txt"
