"""Regenerate the screenshots in this folder from a generated mailbox: never edit them by hand.

    python screenshots/make.py [NAME ...]     (only the named shots, e.g. setup-80x24)

Each picture is an SVG saved by the app itself (``App.save_screenshot``) while it runs headless
on a store filled with the seeded demo mailbox, with the clock fixed so dates never change.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.ui.mailstore import fill_store, fixed_clock, offline_config  # noqa: E402
from tests.ui.pilot import settle  # noqa: E402
from tuimail.mail.envelope import Address, Envelope  # noqa: E402
from tuimail.store import queries  # noqa: E402
from tuimail.store.db import open_store  # noqa: E402
from tuimail.store.records import NewMessage  # noqa: E402
from tuimail.ui.app import TuimailApp  # noqa: E402
from tuimail.ui.screens.setup import FormValues  # noqa: E402
from tuimail.ui.setup_app import SetupApp  # noqa: E402

HTML_MAIL = (
    "From: Release Bot <releases@example.org>\r\nTo: ann@example.org\r\n"
    "Subject: tuimail 0.2 is out\r\nDate: Sat, 14 Mar 2026 15:25:00 +0000\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><body><h1>tuimail 0.2</h1><p>The reading interface has landed: three panes, "
    'threads, themes. Read the <a href="https://example.org/notes">release notes</a> or '
    '<a href="mailto:team@example.org">write to us</a>.</p>'
    '<img src="https://tracker.example.com/pixel.gif" alt="">'
    "<blockquote><p>&gt; Will it work over SSH?</p></blockquote>"
    "<ul><li>virtual index: 100k messages</li><li>no remote images, ever</li></ul>"
    "</body></html>\r\n"
)


MARIA = Address("Maria Keller", "maria.keller@example.com")
MARCO = Address("Marco Rossi", "marco@example.it")
CONTACTS = "BEGIN:VCARD\nVERSION:3.0\nFN:Mary Contact\nEMAIL:mary@contacts.example\nEND:VCARD\n"


async def build(path: Path) -> None:
    store = await open_store(path)
    try:
        folders = await fill_store(store)
        envelope = Envelope(
            message_id="<release-0.2@example.org>",
            subject="tuimail 0.2 is out",
            from_=(Address("Release Bot", "releases@example.org"),),
            date=datetime(2026, 3, 14, 15, 25, tzinfo=UTC),
            size=len(HTML_MAIL),
        )
        async with store.session() as session:
            await queries.insert_messages(
                session, folders["INBOX"], [NewMessage(envelope, raw=HTML_MAIL.encode())]
            )
            await queries.refresh_counts(session, folders["INBOX"])
            # Mail the user wrote, for address completion: Maria four times, Marco once.
            ann = Address("Ann Example", "ann@example.org")
            sent = [
                NewMessage(
                    Envelope(None, "Plans", (ann,), (who,), date=datetime(2026, 3, d, tzinfo=UTC)),
                    flags=frozenset({"\\Seen"}),
                )
                for who, d in [(MARIA, 2), (MARIA, 5), (MARIA, 9), (MARIA, 12), (MARCO, 1)]
            ]
            await queries.insert_messages(session, folders["Sent"], sent)
            await queries.refresh_counts(session, folders["Sent"])
    finally:
        await store.close()


async def shoot(
    path: Path, name: str, size: tuple[int, int], keys: Sequence[str], **ui: object
) -> None:
    app = TuimailApp(offline_config(**ui), store_path=path, clock=fixed_clock, start_sync=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        app.save_screenshot(f"{name}.svg", str(HERE))
    print(f"screenshots/{name}.svg", flush=True)


async def shoot_setup(config: Path, name: str, size: tuple[int, int]) -> None:
    """The setup form after Ctrl+F on a provider from the table (no network involved)."""
    values = FormValues(email="ann@fastmail.com", password="app-password", display_name="Ann")
    app = SetupApp(config, values=values)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        app.save_screenshot(f"{name}.svg", str(HERE))
    print(f"screenshots/{name}.svg", flush=True)


async def main(only: Sequence[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TUIMAIL_CONFIG"] = str(Path(tmp) / "config.toml")  # no user themes
        os.environ["TUIMAIL_DATA_DIR"] = str(Path(tmp) / "data")  # the pipe's history too
        path = Path(tmp) / "mail.sqlite3"
        wanted = set(only)
        if not wanted or wanted - {"setup-80x24"}:
            await build(path)

        async def take(name: str, *args: object, **ui: object) -> None:
            if not wanted or name in wanted:
                await shoot(path, name, *args, **ui)  # type: ignore[arg-type]

        await take("three-panes-160x48", (160, 48), ["j", "j", "enter"])
        await take("html-message-160x48", (160, 48), ["enter"], layout="below")
        await take("threads-160x48", (160, 48), ["j", "j", "enter"], threads=True)
        await take("narrow-index-80x24", (80, 24), [])
        await take("narrow-message-80x24", (80, 24), ["enter"])
        await take("help-100x32", (100, 32), ["question_mark"])
        await take("conversation", (120, 35), ["j"] * 7 + ["C"], threads=True)
        await take("move-dialog-80x24", (80, 24), ["s", "a", "r", "c"])
        # Send later: Ctrl+l in the editor, the time typed and said back in words (a date of
        # its own: the prompt reads times against the real clock, not the pictures' one).
        later = ["ctrl+l", *"2027", "minus", *"03", "minus", *"16", "space", *"09", "colon", *"00"]
        await take("send-later-120x30", (120, 30), ["r", *later])
        # `|` then a command: the pager with the command's output and its exit status.
        pipe = ["vertical_line", *"grep", "space", "minus", *"i", "space", *"subject", "enter"]
        await take("pipe-output-120x30", (120, 30), ["j", "j", *pipe])
        await take("quit-question-80x24", (80, 24), ["q", "q"])
        await take("light-theme-160x48", (160, 48), ["j", "enter"], theme="light")
        await take("basic16-theme-160x48", (160, 48), ["j", "enter"], theme="basic16")
        contacts = Path(tmp) / "contacts.vcf"
        contacts.write_text(CONTACTS)
        await take("compose-completion-120x30", (120, 30), ["m", "m", "a"], contacts=str(contacts))
        if not wanted or "setup-80x24" in wanted:
            await shoot_setup(Path(tmp) / "config.toml", "setup-80x24", (80, 24))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
