"""run_demo without a terminal: the interface gets the demo accounts, and cleanup always runs."""

from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path

import pytest

from tuimail.config import LoadedConfig
from tuimail.demo import run
from tuimail.ui import app

pytestmark = pytest.mark.timeout(60)


class Seen:
    """What the stand-in interface saw while it ran."""

    config: LoadedConfig | None = None
    data_dir: str | None = None
    config_file: str | None = None


@pytest.fixture
def seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Seen:
    monkeypatch.setenv("TUIMAIL_DEMO_INFO", str(tmp_path / "info.json"))
    monkeypatch.setenv("TUIMAIL_CONFIG", str(tmp_path / "users-config.toml"))
    monkeypatch.setenv("TUIMAIL_DATA_DIR", str(tmp_path / "users-data"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return Seen()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def info(tmp_path: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((tmp_path / "info.json").read_text())
    return loaded


def test_the_interface_runs_on_both_demo_accounts_inside_a_temporary_dir(
    seen: Seen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interface(config: LoadedConfig) -> None:
        seen.config = config
        seen.data_dir = os.environ["TUIMAIL_DATA_DIR"]
        seen.config_file = os.environ["TUIMAIL_CONFIG"]

    monkeypatch.setattr(app, "run_app", interface)
    run.run_demo()
    assert seen.config is not None
    assert list(seen.config.accounts) == ["demo", "demo-pop"]
    assert seen.config.warnings == []
    temp_dir = Path(str(info(tmp_path)["temp_dir"]))
    assert seen.data_dir == str(temp_dir / "data")
    assert seen.config_file == str(temp_dir / "config.toml")
    assert not temp_dir.exists()
    # The user's own locations are back, untouched.
    assert os.environ["TUIMAIL_DATA_DIR"] == str(tmp_path / "users-data")
    assert not (tmp_path / "users-data").exists()


def test_an_error_in_the_interface_still_stops_the_servers_and_removes_the_dir(
    seen: Seen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interface(config: LoadedConfig) -> None:
        raise KeyboardInterrupt  # Ctrl-C, the harshest way out

    monkeypatch.setattr(app, "run_app", interface)
    with pytest.raises(KeyboardInterrupt):
        run.run_demo()
    details = info(tmp_path)
    assert not Path(str(details["temp_dir"])).exists()
    ports = [details["imap"], details["pop3"], details["smtp"]]
    assert not [port for port in ports if isinstance(port, int) and listening(port)]
    assert not [h for h in logging.getLogger().handlers if getattr(h, "_tuimail", False)]
    assert os.environ["TUIMAIL_CONFIG"] == str(tmp_path / "users-config.toml")
