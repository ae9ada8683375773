"""[ui] address_book_command in To/Cc/Bcc: khard and abook answers join the store's ranked
addresses; a slow command never holds up typing, and an answer for old text is dropped."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.sync.test_outbox_sendmail import running
from tests.ui.pilot import screen_text, settle, wait_for
from tests.ui.widgets.test_address_input import OFTEN, add_mail, compose, field, make_app
from tuimail.ui.widgets.address_input import CompletionList

pytestmark = pytest.mark.timeout(60)

# `khard email --parsable QUERY`: a header line, then address, name, kind of address.
KHARD = (
    'printf "searching for \'%s\' ...\\n" "$1"\n'
    "printf 'quentin@khard.example\\tQuentin Khard\\twork\\n'\n"
    "printf 'zed.often@example.com\\tZed From Khard\\thome\\n'\n"
    "printf 'not an address\\tBroken\\n'\n"
)
# `abook --mutt-query QUERY`: an empty first line, then address, name, (empty) other.
ABOOK = "printf '\\nann.bee@abook.example\\tAnn Bee\\t\\n'\n"


def command(directory: Path, body: str) -> str:
    path = directory / "query"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return f"{path} %s"


async def test_khard_answers_join_the_ranked_store_addresses_each_address_once(
    generated_store: Path, tmp_path: Path
) -> None:
    await add_mail(generated_store)
    app = make_app(generated_store, address_book_command=command(tmp_path, KHARD))
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press(*"zed")
        await wait_for(pilot, lambda: "Quentin Khard" in screen_text(app), 5)
        shown = str(app.screen.query_one(CompletionList).render())
        assert shown.count(OFTEN.email) == 1 and "Zed From Khard" not in shown
        assert shown.find(OFTEN.email) < shown.find("quentin@khard.example")
        assert "Quentin Khard <quentin@khard.example>  contacts" in shown
        assert "Broken" not in shown


async def test_an_abook_answer_is_taken_by_tab(generated_store: Path, tmp_path: Path) -> None:
    app = make_app(generated_store, address_book_command=command(tmp_path, ABOOK))
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press("tab", *"bee")  # in Cc
        await wait_for(pilot, lambda: "Ann Bee" in screen_text(app), 5)
        await pilot.press("tab")
        assert field(app, "cc").value == "Ann Bee <ann.bee@abook.example>"


async def test_typing_on_kills_the_slow_question_and_its_answer_never_shows(
    generated_store: Path, tmp_path: Path
) -> None:
    await add_mail(generated_store)
    slow = (
        'echo $$ > "$0.pid-$1"\n'
        'if [ "$1" = ze ]; then sleep 30; echo; echo "late@slow.example\tLate Answer"; fi\n'
        'printf "\\nfresh@example.net\\tFresh Answer\\n"\n'
    )
    script = command(tmp_path, slow)
    app = make_app(generated_store, address_book_command=script, address_book_timeout=20)
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press(*"ze")
        first = tmp_path / "query.pid-ze"
        await wait_for(pilot, first.exists, 5)  # the command is asked for "ze" and hangs
        await pilot.press("d")
        assert field(app, "to").value == "zed"  # the key did not wait for the command
        await wait_for(pilot, lambda: "Fresh Answer" in screen_text(app), 5)
        assert not running(int(first.read_text()))  # the question for "ze" was ended
        assert OFTEN.email in screen_text(app)
        assert "Late Answer" not in screen_text(app)


async def test_a_command_over_its_time_limit_leaves_the_store_suggestions(
    generated_store: Path, tmp_path: Path
) -> None:
    await add_mail(generated_store)
    hanging = 'echo $$ > "$0.pid"\nsleep 30\necho\necho "late@slow.example\tLate Answer"\n'
    app = make_app(
        generated_store, address_book_command=command(tmp_path, hanging), address_book_timeout=0.5
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press(*"zed")
        pid = tmp_path / "query.pid"
        await wait_for(pilot, pid.exists, 5)
        await settle(pilot)  # the question ends with its time limit
        assert not running(int(pid.read_text()))
        assert OFTEN.email in screen_text(app) and "Late Answer" not in screen_text(app)
