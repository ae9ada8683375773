"""A plainly valid config file gives the quick sync the settings the config models would give.

``tuimail sync`` reads an IMAP account's connection settings through ``config_view`` when
``config_plain`` accepts the file; a login must not differ from the one the models configure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.test_config_plain import CONFIGS, _swap_existing
from tuimail import config_plain
from tuimail.config import validate_file
from tuimail.config_view import ImapAccountSettings, imap_account_views
from tuimail.errors import ConfigError

SERVER_KEYS = (
    "host",
    "security",
    "username",
    "password_command",
    "oauth2_token_command",
    "auth",
    "tls_ca_file",
    "tls_verify",
    "timeout",
)
FOLDER_ROLES = ("sent", "drafts", "trash", "junk", "archive")


def _settings(account: ImapAccountSettings) -> dict[str, object]:
    server = account.imap
    assert server is not None
    password = server.password
    return {
        "email": account.email,
        "offline": account.offline,
        "port": server.port_for("imap"),
        "password": None if password is None else password.get_secret_value(),
        **{key: getattr(server, key) for key in SERVER_KEYS},
        **{role: getattr(account.folders, role) for role in FOLDER_ROLES},
    }


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=CONFIGS)
def test_a_plain_file_gives_each_imap_account_the_models_settings(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]
) -> None:
    path = tmp_path_factory.mktemp("config") / "config.toml"
    path.write_text("")
    path.chmod(0o600)
    data = _swap_existing(data, str(path))
    try:
        plain = config_plain.plain_warnings(data, path)
    except ConfigError:  # a refused file has no views to compare
        return
    if plain is None:
        return  # not plain: the models are loaded for it
    models = validate_file(data, path).accounts
    views = imap_account_views(data)
    assert views.keys() == models.keys()
    for name, view in views.items():
        model = models[name]
        if model.imap is None:
            assert view is None
            continue
        assert view is not None
        assert _settings(view) == _settings(model)


def test_a_password_from_the_file_is_hidden_in_the_view_repr(tmp_path: Path) -> None:
    data = {
        "accounts": {
            "work": {"email": "a@example.org", "imap": {"host": "h", "password": "s3cret"}}
        }
    }
    view = imap_account_views(data)["work"]
    assert view is not None
    assert "s3cret" not in repr(view)
    assert view.imap.password is not None and view.imap.password.get_secret_value() == "s3cret"
