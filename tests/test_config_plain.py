"""The plain config check (no pydantic) never accepts what the models refuse, nor warns otherwise.

``tuimail list`` and ``read`` check the config file with ``tuimail.config_plain``; every other
command with the models of ``tuimail.config``. A file must get the same answer from both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tuimail import config_plain
from tuimail.config import (
    AccountConfig,
    Config,
    FolderNames,
    Identity,
    Pop3Config,
    ServerConfig,
    UIConfig,
    validate_file,
)
from tuimail.config_view import server_view
from tuimail.errors import ConfigError

TABLES: list[tuple[config_plain.Table, type[BaseModel]]] = [
    (config_plain.SERVER, ServerConfig),
    (config_plain.POP3, Pop3Config),
    (config_plain.IDENTITY, Identity),
    (config_plain.FOLDER_NAMES, FolderNames),
    (config_plain.ACCOUNT, AccountConfig),
    (config_plain.UI, UIConfig),
    (config_plain.CONFIG, Config),
]


@pytest.mark.parametrize(("table", "model"), TABLES, ids=lambda t: getattr(t, "__name__", ""))
def test_plain_tables_name_the_keys_the_models_have(
    table: config_plain.Table, model: type[BaseModel]
) -> None:
    assert set(table.checks) == set(model.model_fields)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert table.required == required


def test_plain_server_defaults_are_the_models_defaults() -> None:
    plain = server_view({"host": "h"})
    model = ServerConfig(host="h")
    for name in ServerConfig.model_fields:
        assert getattr(plain, name) == getattr(model, name), name


# Per key, values a hand-written file holds: the right ones (drawn more often), then wrong ones.
NAN, INF = float("nan"), float("inf")
VALUES: dict[str, tuple[list[Any], list[Any]]] = {
    "host": (["localhost", "127.0.0.1", "mail.example.org"], ["", 1]),
    "port": ([1, 993, 65535], [0, 65536, True, "993", 993.0]),
    "security": (["tls", "starttls", "none"], ["TLS", 1]),
    "username": (["ann", ""], [5]),
    "password_command": (["pass mail"], [["pass"]]),
    "password": (["secret", ""], [1]),
    "oauth2_token_command": (["token"], [False]),
    "auth": (["auto", "apop", "xoauth2"], ["nosuch"]),
    "tls_ca_file": (["EXISTING", "/no/such/ca.pem", "~/x.pem"], ["", "a\0b", 1]),
    "timeout": ([30, 0.5, INF], [0, -1, NAN, True, "30"]),
    "delete_after_days": ([0, 7], [-1, 1.5]),
    "email": (["a@example.org"], ["a b@x", "x", "x@y\n", ""]),
    "display_name": (["Ann", ""], [3]),
    "signature": (["-- Ann", ""], [0]),
    "offline": (["headers", "full"], ["none"]),
    "poll_interval": ([10, 300], [9, 10.0]),
    "send_delay": ([0, 10, 3600], [-1, 3601, 2.5, True]),
    "theme": (["dark", "light", "textual-dark"], ["nosuch", ""]),
    "keys": ([{"reply": "r"}, {}], [{"nosuch": "x"}, {"reply": " "}, {"reply": 1}, []]),
    "layout": (["right", "below"], ["left"]),
    "contacts": (["EXISTING", "/no/such.vcf"], ["", 0]),
    "identities": ([[], [{"email": "b@example.org", "signature": "B"}]], [[{}], {}]),
    "sendmail_command": (["msmtp -a work", "sendmail -oi -t"], ["", " ", "a 'b", 1]),
    "address_book_command": (["khard email --parsable %s"], ["", "'", 0]),
    "address_book_timeout": ([2, 0.5], [0, -1, NAN, True]),
    "notify": (["none", "osc777", "osc9", "both"], ["OSC9", "", True]),
    "on_new_mail_command": (["notify-send mail", "x | y"], ["", 1]),
}
FLAG = ([True, False], [1, "yes"])
NAME = (["Sent", "Deleted Items"], ["", 1])


def _values(key: str) -> st.SearchStrategy[Any]:
    right, wrong = VALUES.get(key, NAME if key in FolderNames.model_fields else FLAG)
    return st.sampled_from(right * 10 + wrong)


def _table(model: type[BaseModel], **nested: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    fields = model.model_fields
    required = {key: _values(key) for key, field in fields.items() if field.is_required()}
    optional = {key: nested.get(key, _values(key)) for key in fields if key not in required}
    plain = st.fixed_dictionaries(required, optional=optional)
    anyhow = st.fixed_dictionaries({}, optional={**required, **optional, "colour": st.just(1)})
    return st.one_of(*[plain] * 10, anyhow, st.sampled_from([[], "x"]))


def _one_receiver(account: Any, receiver: str) -> Any:
    """Mostly an account with one receiving server, as the models require."""
    if type(account) is dict and receiver in ("imap", "pop3"):
        account.pop("pop3" if receiver == "imap" else "imap", None)
        account.setdefault(receiver, {"host": "localhost"})
    return account


SERVERS = {"imap": _table(ServerConfig), "smtp": _table(ServerConfig), "pop3": _table(Pop3Config)}
ACCOUNTS = st.builds(
    _one_receiver,
    _table(AccountConfig, folders=_table(FolderNames), **SERVERS),
    st.sampled_from(["imap", "pop3", "imap", "pop3", "as drawn"]),
)
CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "accounts": st.dictionaries(
            st.sampled_from(["home", "work.2", "Ann_3"] * 3 + ["-bad", "x\n"]), ACCOUNTS, max_size=2
        ),
        "ui": _table(UIConfig),
    },
)


def _answer(check: Any) -> tuple[str, object]:
    try:
        return "ok", check()
    except ConfigError as exc:
        return "error", str(exc)


def _swap_existing(data: Any, existing: str) -> Any:
    if isinstance(data, dict):
        return {key: _swap_existing(value, existing) for key, value in data.items()}
    if isinstance(data, list):
        return [_swap_existing(value, existing) for value in data]
    return existing if data == "EXISTING" else data


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=CONFIGS, readable=st.booleans())
def test_a_file_the_plain_check_judges_gets_the_models_answer(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any], readable: bool
) -> None:
    path = tmp_path_factory.mktemp("config") / "config.toml"
    path.write_text("")
    path.chmod(0o644 if readable else 0o600)
    data = _swap_existing(data, str(path))
    plain = _answer(lambda: config_plain.plain_warnings(data, path))
    if plain == ("ok", None):
        return  # not plain: the models judge it
    models = _answer(lambda: validate_file(data, path).warnings)
    assert plain == models


def test_a_plain_file_with_every_key_is_judged_without_the_models(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(0o600)
    server = {
        "host": "mail.example.org",
        "port": 993,
        "security": "tls",
        "allow_insecure": False,
        "username": "ann",
        "password": "secret",
        "oauth2_token_command": "token",
        "auth": "plain",
        "tls_ca_file": str(path),
        "tls_verify": False,
        "timeout": 30,
    }
    data = {
        "accounts": {
            "home": {
                "email": "ann@example.org",
                "display_name": "Ann",
                "imap": server,
                "smtp": {"host": "mail.example.org", "password_command": "pass mail"},
                "identities": [{"email": "a@example.org", "display_name": "A", "signature": ""}],
                "signature": "Ann",
                "offline": "full",
                "poll_interval": 60,
                "folders": {"sent": "Sent Items", "trash": "Deleted Items"},
            },
            "old": {"email": "o@example.org", "pop3": {"host": "localhost", "security": "none"}},
        },
        "ui": {"theme": "light", "keys": {"reply": "R"}, "contacts": "/no/such.vcf"},
    }
    plain = config_plain.plain_warnings(data, path)
    assert plain is not None
    assert plain == validate_file(data, path).warnings
    assert len(plain) == 3  # tls_verify, the password, the missing contacts file
