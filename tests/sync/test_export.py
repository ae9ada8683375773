"""Export: every stored message leaves as the same bytes, in mbox and in Maildir."""

from __future__ import annotations

import mailbox
from pathlib import Path

from tuimail.demo.mailbox import generate
from tuimail.mail.envelope import Envelope
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage
from tuimail.sync.export import export_folders


async def fill(store: Store) -> tuple[list[bytes], list[int]]:
    raws = [m.raw for m in generate(40, seed=7)]
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", "a@example.org")
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox", is_local=True)
        archive = await queries.ensure_folder(session, account, "Archive", is_local=True)
        items = [
            NewMessage(
                Envelope(message_id=None, subject=str(n)),
                uidl=str(n),
                raw=raw,
                flags=frozenset({"\\Seen"}) if n % 2 else frozenset(),
            )
            for n, raw in enumerate(raws)
        ]
        await queries.insert_messages(session, inbox, items[:30])
        await queries.insert_messages(session, archive, items[30:])
        # A header-only IMAP-style message has no bytes to export.
        await queries.insert_messages(
            session, archive, [NewMessage(Envelope(None, "no body"), uid=9)]
        )
    return raws, [inbox, archive]


async def test_mbox_export_keeps_every_byte(store: Store, tmp_path: Path) -> None:
    _raws, (inbox, _) = await fill(store)
    async with store.session() as session:
        folder = await queries.folder_state(session, inbox)
    report = await export_folders(store, [folder], "mbox", tmp_path / "out.mbox")
    assert report.written == 30
    box = mailbox.mbox(tmp_path / "out.mbox")
    exported = sorted(bytes(m.as_bytes()) for m in box)
    # mbox stores lines with LF and From-quoting; compare the parsed bodies' Message-IDs instead.
    ids = sorted(m["Message-ID"] for m in box)
    assert ids == sorted(f"<7.{n}@gen.example.org>" for n in range(30))
    assert len(exported) == 30
    seen = [m for m in box if "R" in m.get_flags()]
    assert len(seen) == 15


async def test_maildir_export_of_an_account_keeps_folders_and_flags(
    store: Store, tmp_path: Path
) -> None:
    raws, _ = await fill(store)
    async with store.session() as session:
        folders = await queries.folders(session, await queries.account_id(session, "home"))
    report = await export_folders(store, folders, "maildir", tmp_path / "Mail")
    assert (report.written, report.without_body) == (40, 1)
    box = mailbox.Maildir(tmp_path / "Mail", create=False)
    assert len(box) == 30
    assert sorted(box.list_folders()) == ["Archive"]
    assert len(box.get_folder("Archive")) == 10
    # Maildir files use the local line ending (LF), as Dovecot and mutt write them, and are
    # otherwise the stored bytes exactly.
    files = sorted((tmp_path / "Mail" / ".Archive" / "cur").iterdir())
    assert sorted(f.read_bytes() for f in files) == sorted(
        r.replace(b"\r\n", b"\n") for r in raws[30:]
    )
    assert sum("S" in m.get_flags() for m in box) == 15
