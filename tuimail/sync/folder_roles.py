"""Folder roles (Sent, Drafts, Trash, ...) for servers without SPECIAL-USE.

Many servers, and older accounts on servers that have it, mark no folder with an RFC 6154
attribute. Without a role, ``d`` would expunge for good instead of moving to Trash, and the
Sent copy would try to CREATE a "Sent" that already exists. So each role goes to at most one
folder: the one the server marks, else the one the account's ``[folders]`` names, else the
first of the usual names below (in their order) that the server lists.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from typing import Final

from tuimail.config_view import ImapAccountSettings
from tuimail.protocols.imap_records import FolderInfo, Role

# The usual names per role, most likely first: English (and Outlook/Exchange, Apple), Gmail in
# both spellings, then German, French, Spanish, Italian, Dutch, Portuguese, Scandinavian,
# Polish, Czech, Russian. Matched without regard to case, also under "INBOX." or "INBOX/".
USUAL_NAMES: Final[dict[Role, tuple[str, ...]]] = {
    "sent": (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "[Gmail]/Sent Mail",
        "[Google Mail]/Sent Mail",
        "Gesendet",
        "Gesendete Objekte",
        "Gesendete Elemente",
        "Éléments envoyés",
        "Messages envoyés",
        "Envoyés",
        "Enviados",
        "Elementos enviados",
        "Posta inviata",
        "Inviati",
        "Elementi inviati",
        "Verzonden",
        "Verzonden items",
        "Verzonden berichten",
        "Itens enviados",
        "Skickat",
        "Skickade objekt",
        "Sendt",
        "Sendte elementer",
        "Wysłane",
        "Odeslaná pošta",
        "Отправленные",
    ),
    "drafts": (
        "Drafts",
        "Draft",
        "[Gmail]/Drafts",
        "[Google Mail]/Drafts",
        "Entwürfe",
        "Brouillons",
        "Borradores",
        "Bozze",
        "Concepten",
        "Rascunhos",
        "Utkast",
        "Kladder",
        "Kopie robocze",
        "Koncepty",
        "Черновики",
    ),
    "trash": (
        "Trash",
        "Deleted Items",
        "Deleted Messages",
        "Deleted",
        "Bin",
        "[Gmail]/Trash",
        "[Gmail]/Bin",
        "[Google Mail]/Trash",
        "[Google Mail]/Bin",
        "Papierkorb",
        "Gelöschte Elemente",
        "Gelöschte Objekte",
        "Corbeille",
        "Éléments supprimés",
        "Papelera",
        "Elementos eliminados",
        "Cestino",
        "Posta eliminata",
        "Elementi eliminati",
        "Prullenbak",
        "Verwijderde items",
        "Lixeira",
        "Itens excluídos",
        "Papperskorgen",
        "Borttagna objekt",
        "Papirkurv",
        "Slettede elementer",
        "Kosz",
        "Koš",
        "Корзина",
        "Удаленные",
    ),
    "junk": (
        "Junk",
        "Spam",
        "Junk E-mail",
        "Junk Email",
        "Junk Mail",
        "Bulk Mail",
        "[Gmail]/Spam",
        "[Google Mail]/Spam",
        "Junk-E-Mail",
        "Courrier indésirable",
        "Indésirables",
        "Correo no deseado",
        "Posta indesiderata",
        "Ongewenste e-mail",
        "Lixo eletrônico",
        "Skräppost",
        "Uønsket e-post",
        "Spam-post",
        "Спам",
    ),
    "archive": (
        "Archive",
        "Archives",
        "Archiv",
        "Archivio",
        "Archivo",
        "Archief",
        "Arquivo",
        "Arkiv",
        "Archiwum",
        "Архив",
    ),
}
_INBOX_PREFIX: Final = "inbox/"


def _key(name: str, delimiter: str | None) -> str:
    """``name`` compared as the usual names are: NFC, case-folded, "/" as separator."""
    if delimiter and delimiter != "/":
        name = name.replace(delimiter, "/")
    return unicodedata.normalize("NFC", name).casefold()


_USUAL_KEYS: Final[dict[Role, tuple[str, ...]]] = {
    role: tuple(_key(name, "/") for name in names) for role, names in USUAL_NAMES.items()
}


def _configured(listed: Sequence[FolderInfo], free: list[int], wanted: str | None) -> int | None:
    """The free folder the config names: spelled exactly so, else differing only in case."""
    if not wanted:
        return None
    exact = (i for i in free if listed[i].name == wanted)
    loose = (i for i in free if _key(listed[i].name, None) == _key(wanted, None))
    found = next(exact, None)
    return found if found is not None else next(loose, None)


def _usual_rank(folder: FolderInfo, keys: tuple[str, ...]) -> tuple[int, bool] | None:
    """Where the folder's name stands among ``keys``; a name under INBOX ranks second."""
    key = _key(folder.name, folder.delimiter)
    under_inbox = key.startswith(_INBOX_PREFIX)
    if under_inbox:
        key = key[len(_INBOX_PREFIX) :]
    try:
        return keys.index(key), under_inbox
    except ValueError:
        return None


def with_roles(listed: Sequence[FolderInfo], account: ImapAccountSettings) -> list[FolderInfo]:
    """``listed`` with a role on each folder that has one (at most one folder per role)."""
    roles: list[Role | None] = [None] * len(listed)
    taken: set[Role] = set()
    for index, folder in enumerate(listed):  # the server's own marks first
        if folder.role is not None and folder.role not in taken:
            roles[index] = folder.role
            taken.add(folder.role)
    candidates = [i for i, folder in enumerate(listed) if folder.selectable]
    for role, keys in _USUAL_KEYS.items():
        if role in taken:
            continue
        free = [i for i in candidates if roles[i] is None]
        chosen = _configured(listed, free, getattr(account.folders, role))
        if chosen is None:
            ranked = [(rank, i) for i in free if (rank := _usual_rank(listed[i], keys)) is not None]
            chosen = min(ranked)[1] if ranked else None
        if chosen is not None:
            roles[chosen] = role
    return [
        folder if folder.role == role else dataclasses.replace(folder, role=role)
        for folder, role in zip(listed, roles, strict=True)
    ]


def name_to_create(role: str, account: ImapAccountSettings) -> str:
    """The folder to CREATE when no listed folder has ``role``: the configured name, or "Sent"."""
    configured: str | None = getattr(account.folders, role, None)
    return configured or role.capitalize()
