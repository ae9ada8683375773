"""Drafts: autosaved in the store, postponed to the Drafts folder once, reopened, then sent."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from pathlib import Path

from click.testing import CliRunner

from tests.harness.accounts import account, config, imap_table, pop3_table, write_config
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import smtp_table
from tuimail.cli import main
from tuimail.mail.compose import Draft, Identity
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.identities import identity_for
from tuimail.sync.imap_sync import sync_imap_account
from tuimail.sync.sending import DRAFT_HEADER, Drafts


def drafts_on_server(dovecot: Dovecot, user: MailUser) -> list[bytes]:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as imap:
        imap.login(user.name, user.password)
        imap.select("Drafts")
        _, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
        return [part[1] for part in data if isinstance(part, tuple)]


def imap_drafts(store: Store, dovecot: Dovecot, user: MailUser) -> tuple[Drafts, Identity]:
    """The drafts of IMAP account "work" on the test Dovecot, and its identity."""
    loaded = config(work=imap_table(dovecot, user))
    return Drafts(store, loaded), identity_for(loaded.account("work"), None)


async def test_pop3_draft_is_kept_once_in_the_local_drafts_folder_and_reopens(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    loaded = config(home=pop3_table(dovecot, mail_user))
    drafts = Drafts(store, loaded)
    me = identity_for(loaded.account("home"), None)
    first = Draft(me, ("bob@example.net",), (), ("boss@example.org",), "Plan", "first words")
    draft_id = await drafts.autosave("home", first)
    second = Draft(me, ("bob@example.net",), (), ("boss@example.org",), "Plan", "more words")
    assert await drafts.postpone("home", second, draft_id) == draft_id
    assert await drafts.postpone("home", second, draft_id) == draft_id
    async with store.session() as session:
        folder = await queries.folder_by_name(session, "home", "Drafts")
        assert folder.total_count == 1
    name, reopened = await drafts.open(draft_id)
    assert name == "home" and reopened.body.strip() == "more words"
    assert reopened.bcc == ("boss@example.org",) and reopened.subject == "Plan"


async def test_imap_postpone_replaces_the_previous_copy_on_the_server(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    drafts, me = imap_drafts(store, dovecot, mail_user)
    draft_id = await drafts.postpone("work", Draft(me, (), (), (), "Idea", "v1"))
    await drafts.postpone("work", Draft(me, ("a@example.org",), (), (), "Idea", "v2"), draft_id)
    [copy] = await asyncio.to_thread(drafts_on_server, dovecot, mail_user)
    assert b"v2" in copy and b"v1" not in copy
    assert account(imap_table(dovecot, mail_user)).kind == "imap"


def test_cli_postpone_list_and_send_a_draft(
    tmp_path: Path,
    data_dir: Path,
    dovecot: Dovecot,
    mail_user: MailUser,
    smtp_server: SmtpTestServer,
) -> None:
    table = pop3_table(dovecot, mail_user)
    table["smtp"] = smtp_table(smtp_server)
    cfg = str(write_config(tmp_path / "c.toml", home=table))
    runner = CliRunner()
    saved = runner.invoke(
        main,
        ["--config", cfg, "send", "--postpone", "--to", "bob@example.net", "--subject", "Later"],
        input="to be continued\n",
    )
    assert saved.exit_code == 0, saved.output
    draft = saved.stdout.strip().split("#")[1]
    listed = runner.invoke(main, ["--config", cfg, "drafts"])
    assert f"#{draft} home to bob@example.net: Later" in listed.stdout
    sent = runner.invoke(main, ["--config", cfg, "send", "--draft", draft])
    assert sent.exit_code == 0, sent.output
    [received] = asyncio.run(smtp_server.wait_for(1))
    assert b"to be continued" in received.raw
    assert runner.invoke(main, ["--config", cfg, "drafts"]).stdout == ""


def append_foreign_draft(dovecot: Dovecot, user: MailUser, key: str) -> None:
    """A draft postponed by tuimail on another machine, whose store numbers drafts too."""
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as imap:
        imap.login(user.name, user.password)
        raw = f"Subject: from the laptop\r\n{DRAFT_HEADER}: {key}\r\n\r\nlaptop words\r\n"
        imap.append("Drafts", "(\\Draft)", None, raw.encode())


async def test_repostponing_draft_3_leaves_draft_13_on_the_server(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    drafts, me = imap_drafts(store, dovecot, mail_user)
    ids = [
        await drafts.autosave("work", Draft(me, (), (), (), f"draft {n}", "")) for n in range(13)
    ]
    three, thirteen = ids[2], ids[12]
    assert (three, thirteen) == (3, 13)
    await drafts.postpone("work", Draft(me, (), (), (), "three", "three v1"), three)
    await drafts.postpone("work", Draft(me, (), (), (), "thirteen", "thirteen v1"), thirteen)
    await drafts.postpone("work", Draft(me, (), (), (), "three", "three v2"), three)
    on_server = await asyncio.to_thread(drafts_on_server, dovecot, mail_user)
    assert sorted(b"three v2" in raw or b"thirteen v1" in raw for raw in on_server) == [True, True]


async def test_postponing_leaves_another_machines_draft_with_the_same_number_alone(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    drafts, me = imap_drafts(store, dovecot, mail_user)
    draft_id = await drafts.postpone("work", Draft(me, (), (), (), "Idea", "v1"))
    await asyncio.to_thread(append_foreign_draft, dovecot, mail_user, str(draft_id))
    await drafts.postpone("work", Draft(me, (), (), (), "Idea", "v2"), draft_id)
    on_server = await asyncio.to_thread(drafts_on_server, dovecot, mail_user)
    assert sorted(raw.split(b"\r\n\r\n", 1)[1].strip() for raw in on_server) == [
        b"laptop words",
        b"v2",
    ]


async def test_discarding_a_postponed_imap_draft_removes_it_from_the_server_for_good(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    drafts, me = imap_drafts(store, dovecot, mail_user)
    draft_id = await drafts.postpone("work", Draft(me, (), (), (), "Idea", "v1"))
    await sync_imap_account(store, "work", drafts.loaded.account("work"))
    await drafts.discard(draft_id)
    assert await asyncio.to_thread(drafts_on_server, dovecot, mail_user) == []
    await sync_imap_account(store, "work", drafts.loaded.account("work"))
    async with store.session() as session:
        folder = await queries.folder_by_name(session, "work", "Drafts")
        assert await queries.folder_message_ids(session, folder.id) == []
