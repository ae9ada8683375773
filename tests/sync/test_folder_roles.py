"""Folder roles without SPECIAL-USE: the server's marks, then the config, then the usual names."""

from __future__ import annotations

import imaplib
import ssl
from typing import Any

import pytest

from tests.harness.accounts import account, config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.smtp import SmtpTestServer
from tests.sync.test_sending import smtp_table
from tuimail.config import AccountConfig
from tuimail.errors import ConfigError
from tuimail.protocols.imap_records import FolderInfo, Role
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync import actions
from tuimail.sync.folder_roles import name_to_create, with_roles
from tuimail.sync.imap_sync import sync_imap_account
from tuimail.sync.sending import Sending


def folder(
    name: str, *flags: str, delimiter: str | None = "/", role: Role | None = None
) -> FolderInfo:
    if name == "INBOX":
        role = "inbox"
    return FolderInfo(name, name, delimiter, frozenset(flags), role, True)


def imap_account(**folders: str) -> AccountConfig:
    table: dict[str, Any] = {"email": "ann@example.org", "imap": {"host": "imap.example.org"}}
    if folders:
        table["folders"] = folders
    return account(table)


def roles(listed: list[FolderInfo], **folders: str) -> dict[str, str | None]:
    return {f.name: f.role for f in with_roles(listed, imap_account(**folders))}


def test_plain_names_get_their_roles() -> None:
    listed = [folder(n) for n in ("INBOX", "Sent", "Trash", "Drafts", "Junk", "Archive", "Work")]
    assert roles(listed) == {
        "INBOX": "inbox",
        "Sent": "sent",
        "Trash": "trash",
        "Drafts": "drafts",
        "Junk": "junk",
        "Archive": "archive",
        "Work": None,
    }


def test_a_special_use_flag_wins_over_a_usual_name() -> None:
    listed = [
        folder("INBOX"),
        folder("Trash"),
        folder("Bin", "\\Trash", role="trash"),
        folder("Sent"),
    ]
    assert roles(listed) == {"INBOX": "inbox", "Trash": None, "Bin": "trash", "Sent": "sent"}


def test_the_configured_name_wins_over_a_usual_name() -> None:
    listed = [folder("Sent"), folder("Sent Items"), folder("Deleted Items"), folder("Trash")]
    assert roles(listed, sent="Sent Items", trash="Deleted Items") == {
        "Sent": None,
        "Sent Items": "sent",
        "Deleted Items": "trash",
        "Trash": None,
    }


def test_the_configured_name_does_not_override_special_use() -> None:
    listed = [folder("Sent Items"), folder("Outgoing", "\\Sent", role="sent"), folder("Bin")]
    assert roles(listed, sent="Sent Items", trash="Bin") == {
        "Sent Items": None,
        "Outgoing": "sent",
        "Bin": "trash",
    }


def test_a_configured_name_the_server_lacks_falls_back_to_the_usual_names() -> None:
    assert roles([folder("Sent")], sent="Sent Items") == {"Sent": "sent"}


def test_names_match_without_regard_to_case_and_under_inbox() -> None:
    listed = [
        folder("INBOX", delimiter="."),
        folder("INBOX.sent items", delimiter="."),
        folder("INBOX.Deleted Messages", delimiter="."),
        folder("INBOX.DRAFTS", delimiter="."),
    ]
    assert roles(listed) == {
        "INBOX": "inbox",
        "INBOX.sent items": "sent",
        "INBOX.Deleted Messages": "trash",
        "INBOX.DRAFTS": "drafts",
    }


def test_gmail_folders_get_their_roles_under_either_brand() -> None:
    listed = [
        folder("[Gmail]/Sent Mail"),
        folder("[Gmail]/Bin"),
        folder("[Google Mail]/Drafts"),
        folder("[Gmail]/Spam"),
        folder("[Gmail]/All Mail"),
    ]
    assert roles(listed) == {
        "[Gmail]/Sent Mail": "sent",
        "[Gmail]/Bin": "trash",
        "[Google Mail]/Drafts": "drafts",
        "[Gmail]/Spam": "junk",
        "[Gmail]/All Mail": None,
    }


@pytest.mark.parametrize(
    ("sent", "trash", "drafts"),
    [
        ("Gesendete Objekte", "Papierkorb", "Entwürfe"),
        ("Éléments envoyés", "Corbeille", "Brouillons"),
        ("Enviados", "Papelera", "Borradores"),
        ("Posta inviata", "Cestino", "Bozze"),
        ("Verzonden", "Prullenbak", "Concepten"),
    ],
)
def test_localised_names_get_their_roles(sent: str, trash: str, drafts: str) -> None:
    listed = [folder("INBOX"), folder(sent), folder(trash), folder(drafts)]
    assert roles(listed) == {"INBOX": "inbox", sent: "sent", trash: "trash", drafts: "drafts"}


def test_one_folder_per_role_in_the_stated_order() -> None:
    # "Trash" comes before "Deleted Items" in the order; a top-level name before one under INBOX.
    listed = [folder("Deleted Items"), folder("INBOX/Trash"), folder("Trash"), folder("Spam")]
    assert roles(listed) == {
        "Deleted Items": None,
        "INBOX/Trash": None,
        "Trash": "trash",
        "Spam": "junk",
    }


def test_two_folders_marked_for_one_role_keep_only_the_first() -> None:
    listed = [folder("Sent", "\\Sent", role="sent"), folder("Old Sent", "\\Sent", role="sent")]
    assert roles(listed) == {"Sent": "sent", "Old Sent": None}


def test_a_folder_that_cannot_hold_mail_gets_no_role() -> None:
    listed = [folder("Trash", "\\Noselect"), folder("Deleted Items")]
    assert roles(listed) == {"Trash": None, "Deleted Items": "trash"}


def test_a_folder_named_like_one_role_but_marked_another_keeps_its_mark() -> None:
    listed = [folder("Trash", "\\Junk", role="junk"), folder("Deleted")]
    assert roles(listed) == {"Trash": "junk", "Deleted": "trash"}


def test_the_config_names_folders_per_account() -> None:
    config = imap_account(sent="Sent Items", junk="Junk E-mail")
    assert config.folders.sent == "Sent Items"
    assert config.folders.junk == "Junk E-mail"
    assert config.folders.trash is None


def test_an_unknown_folder_role_in_the_config_is_an_error() -> None:
    with pytest.raises(ConfigError, match="outbox"):
        imap_account(outbox="Outbox")


# Against the plain Dovecot: Sent, Trash... exist, and no LIST marks them.


def subjects_on_server(server: Dovecot, user: MailUser, folder: str) -> list[str]:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    with imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=context) as imap:
        imap.login(user.name, user.password)
        status, count = imap.select(f'"{folder}"', readonly=True)
        assert status == "OK"
        if count == [b"0"]:
            return []
        _status, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return sorted(
            bytes(part[1]).decode().strip().removeprefix("Subject: ")
            for part in data
            if isinstance(part, tuple)
        )


def mail(subject: str) -> bytes:
    return (
        f"From: bob@example.net\r\nTo: x@example.org\r\nSubject: {subject}\r\n\r\nhi\r\n".encode()
    )


async def test_delete_moves_to_the_trash_folder_of_a_server_without_special_use(
    store: Store, plain_dovecot: Dovecot, plain_user: MailUser
) -> None:
    plain_dovecot.deliver(plain_user, [mail("keep"), mail("unwanted")])
    cfg = account(imap_table(plain_dovecot, plain_user))
    await sync_imap_account(store, "x", cfg)
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        rows = await queries.list_messages(session, inbox.id)
    unwanted = [r.id for r in rows if r.subject == "unwanted"]

    await actions.delete(store, unwanted)
    await sync_imap_account(store, "x", cfg)

    assert subjects_on_server(plain_dovecot, plain_user, "INBOX") == ["keep"]
    assert subjects_on_server(plain_dovecot, plain_user, "Trash") == ["unwanted"]
    async with store.session() as session:
        trash = await queries.folder_by_name(session, "x", "Trash")
        assert trash.role == "trash"
        assert [r.subject for r in await queries.list_messages(session, trash.id)] == ["unwanted"]


async def test_the_sent_copy_lands_in_the_existing_sent_folder_without_special_use(
    store: Store, plain_dovecot: Dovecot, plain_user: MailUser, smtp_server: SmtpTestServer
) -> None:
    plain_dovecot.deliver(plain_user, [mail("sent last year")], folder="Sent", seen=True)
    table = imap_table(plain_dovecot, plain_user)
    table["smtp"] = smtp_table(smtp_server)
    sending = Sending(store, config(x=table))
    await sending.submit_new("x", ["bob@example.net"], [], [], "Minutes", "See you.\n")

    report = await sending.outbox.flush()

    (delivery,) = report.deliveries
    assert delivery.outcome == "sent" and delivery.follow_up_errors == ()
    assert len(smtp_server.messages) == 1
    assert subjects_on_server(plain_dovecot, plain_user, "Sent") == ["Minutes", "sent last year"]
    assert await sending.outbox.items() == []


def test_a_missing_role_folder_is_created_under_the_configured_name() -> None:
    assert name_to_create("sent", imap_account(sent="Sent Items")) == "Sent Items"
    assert name_to_create("drafts", imap_account(sent="Sent Items")) == "Drafts"


async def test_a_role_named_in_the_config_moves_in_the_store_at_the_next_sync(
    store: Store, plain_dovecot: Dovecot, plain_user: MailUser
) -> None:
    table = imap_table(plain_dovecot, plain_user)
    await sync_imap_account(store, "x", account(table))
    table["folders"] = {"trash": "Archive"}  # the user names another folder in the config
    await sync_imap_account(store, "x", account(table))
    async with store.session() as session:
        account_pk = (await queries.folder_by_name(session, "x", "INBOX")).account_id
        trash = await queries.folder_with_role(session, account_pk, "trash")
        assert trash is not None and trash.name == "Archive"
        assert (await queries.folder_by_name(session, "x", "Trash")).role is None
