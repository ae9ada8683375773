"""Shared fixtures: real servers live in tests/harness/ and are registered here."""

from pathlib import Path

import pytest

pytest_plugins = ["tests.harness.fixtures", "tests.harness.smtp", "tests.harness.store"]


@pytest.fixture(autouse=True)
def _no_user_files(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A private data dir and config path for every test, also one that asks for neither
    (``data_dir`` gives its own): nothing a test runs may write into the user's real files."""
    root = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TUIMAIL_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("TUIMAIL_CONFIG", str(root / "config.toml"))
    return root
