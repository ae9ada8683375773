"""address_book_command: the typed text is one argument, never shell text; mutt query answers
are read line by line, bad lines skipped, what is kept made safe."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tuimail.mail.vcard import Contact
from tuimail.sync.address_command import parse_query_output, query

pytestmark = pytest.mark.timeout(30)


def test_a_khard_answer_gives_its_addresses_without_the_header_line() -> None:
    out = (
        b"searching for 'ann' ...\n"
        b"ann@example.org\tAnn Example\thome\n"
        b"ann.w@work.example\tAnn Example\twork\n"
    )
    assert parse_query_output(out) == [
        Contact("Ann Example", "ann@example.org"),
        Contact("Ann Example", "ann.w@work.example"),
    ]


def test_an_abook_answer_with_an_empty_first_line_and_bad_lines_is_read_safely() -> None:
    out = (
        b"\n"
        b"bee@abook.example\tAnn \x1b[31mBee\xff\t\n"
        b"no address here\tNobody\t\n"
        b"\n"
        b"plain@only.example\n"
    )
    assert parse_query_output(out) == [
        Contact("Ann Bee\ufffd", "bee@abook.example"),
        Contact("", "plain@only.example"),
    ]


async def test_the_typed_text_reaches_the_command_as_one_argument(tmp_path: Path) -> None:
    script = tmp_path / "query"
    script.write_text(
        "#!/bin/sh\n"
        'python3 -c \'import json,sys; print(json.dumps(sys.argv[1:]))\' "$@" > "$0.args"\n'
        "echo header\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    typed = "ann $(touch pwned); rm -rf ~ 'x"
    assert await query(f"'{script}' --mutt-query %s --x=%s", typed, 5) == []
    args = json.loads(Path(f"{script}.args").read_text())
    assert args == ["--mutt-query", typed, f"--x={typed}"]
    assert not (tmp_path / "pwned").exists()
