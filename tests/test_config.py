"""Config validation: every rule gives one line naming the file, the key and what was expected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tuimail.config import load_config, parse_config
from tuimail.errors import ConfigError

GOOD = """
[accounts.work]
email = "ann@example.com"
display_name = "Ann Example"
[accounts.work.imap]
host = "imap.example.com"
username = "ann"
password_command = "pass show mail/work"
[accounts.work.smtp]
host = "smtp.example.com"
security = "starttls"

[accounts.home]
email = "ann@home.example"
[accounts.home.pop3]
host = "pop.home.example"
leave_on_server = false
delete_after_days = 14

[ui]
theme = "light"
keys = { reply = "ctrl+r" }
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "config.toml") in message
    return message


def test_a_complete_config_loads_with_defaults(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, GOOD))
    work = loaded.account("work")
    assert work.kind == "imap"
    assert work.receiver.port_for("imap") == 993
    assert work.smtp is not None and work.smtp.port_for("smtp") == 587
    home = loaded.account("home")
    assert home.kind == "pop3" and home.pop3 is not None
    assert home.pop3.port_for("pop3") == 995
    assert home.pop3.leave_on_server is False and home.pop3.delete_after_days == 14
    assert loaded.config.ui.theme == "light"
    assert loaded.config.ui.keys == {"reply": "ctrl+r"}
    assert loaded.warnings == []


def test_the_readme_config_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    loaded = load_config(write(tmp_path, block))
    assert loaded.accounts


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_toml_syntax_error_is_one_line(tmp_path: Path) -> None:
    assert "not valid TOML" in error_for(tmp_path, "[accounts.work\nemail = 1")


def test_unknown_key_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('username = "ann"', 'usernme = "ann"'))
    assert "accounts.work.imap.usernme: unknown key" in message


def test_bad_security_value_lists_the_choices(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('security = "starttls"', 'security = "ssl"'))
    assert "accounts.work.smtp.security" in message and "'tls'" in message and "'ssl'" in message


def test_port_out_of_range(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('username = "ann"', "port = 70000"))
    assert "accounts.work.imap.port" in message and "65535" in message


def test_receiving_server_required(tmp_path: Path) -> None:
    text = '[accounts.x]\nemail = "x@example.com"\n'
    assert "exactly one of [imap] or [pop3]" in error_for(tmp_path, text)


def test_both_imap_and_pop3_refused(tmp_path: Path) -> None:
    text = GOOD + '\n[accounts.work.pop3]\nhost = "pop.example.com"\n'
    assert "exactly one of [imap] or [pop3]" in error_for(tmp_path, text)


def test_email_must_be_an_address(tmp_path: Path) -> None:
    assert "not an address" in error_for(tmp_path, GOOD.replace("ann@example.com", "ann"))


def test_account_name_may_not_contain_a_slash(tmp_path: Path) -> None:
    text = GOOD.replace("[accounts.work]", '[accounts."wo/rk"]').replace(
        "[accounts.work.", '[accounts."wo/rk".'
    )
    assert "accounts.wo/rk" in error_for(tmp_path, text)


def test_plain_connection_refused_to_remote_host(tmp_path: Path) -> None:
    text = GOOD.replace('username = "ann"', 'username = "ann"\nsecurity = "none"')
    assert 'accounts.work.imap.security: "none"' in error_for(tmp_path, text)


def test_plain_connection_allowed_to_loopback_and_with_allow_insecure(tmp_path: Path) -> None:
    local = GOOD.replace('"imap.example.com"', '"127.0.0.1"\nsecurity = "none"')
    assert load_config(write(tmp_path, local)).account("work").receiver.port_for("imap") == 143
    forced = GOOD.replace('username = "ann"', 'security = "none"\nallow_insecure = true')
    assert load_config(write(tmp_path, forced)).account("work").receiver.security == "none"


def test_password_and_password_command_are_exclusive(tmp_path: Path) -> None:
    text = GOOD.replace('username = "ann"', 'password = "hunter2"')
    message = error_for(tmp_path, text)
    assert "either password or password_command" in message
    assert "hunter2" not in message


def test_invalid_password_value_is_never_echoed(tmp_path: Path) -> None:
    text = GOOD.replace('password_command = "pass show mail/work"', "password = 12345678")
    message = error_for(tmp_path, text)
    assert "accounts.work.imap.password" in message and "12345678" not in message


def test_missing_ca_file(tmp_path: Path) -> None:
    text = GOOD.replace('username = "ann"', 'tls_ca_file = "/nonexistent/ca.pem"')
    assert "tls_ca_file: no such file" in error_for(tmp_path, text)


def test_negative_delete_after_days(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("delete_after_days = 14", "delete_after_days = -1"))
    assert "accounts.home.pop3.delete_after_days" in message


def test_plaintext_password_is_warned_and_world_readable_file_too(tmp_path: Path) -> None:
    text = GOOD.replace('password_command = "pass show mail/work"', 'password = "s3cret"')
    loaded = load_config(write(tmp_path, text, mode=0o644))
    assert any("clear text" in w for w in loaded.warnings)
    assert any("readable by other users" in w for w in loaded.warnings)
    assert all("s3cret" not in w for w in loaded.warnings)


def test_disabling_verification_is_warned(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, GOOD.replace('username = "ann"', "tls_verify = false")))
    assert any("tls_verify = false" in w for w in loaded.warnings)


def test_unknown_account_lists_the_configured_ones() -> None:
    loaded = parse_config({})
    with pytest.raises(ConfigError, match="configured: none"):
        loaded.account("work")


def test_bad_ui_option(tmp_path: Path) -> None:
    text = GOOD.replace('theme = "light"', 'theme = "light"\nlayout = "left"')
    assert "ui.layout" in error_for(tmp_path, text)
