"""How a sync pass opens a folder: EXAMINE (read-only), unless the server needs a SELECT.

Courier-IMAP keeps a folder's UID list only once a client SELECTs it: until then every EXAMINE
reports a new UIDVALIDITY (the clock), and a cache keyed on it would be downloaded again at
every pass. So a folder's first pass on a server without CONDSTORE (where such old-style
servers are found; Dovecot has it and is opened read-only as ever) SELECTs it, and the UIDs
cached are ones the server keeps. When EXAMINE later reports another UIDVALIDITY than the
cache's, the folder is SELECTed to check: a SELECT that agrees means only EXAMINE is unstable
and the cache is kept; one that does not is a real change, and the cache is rebuilt from what
SELECT reports. Either way the folder is SELECTed from then on, remembered for the life of the
process (per store file and folder; not persisted: after a restart it costs one more SELECT,
not a download). Opening read-write never sets \\Seen: headers and bodies are fetched with
BODY.PEEK.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tuimail.protocols.imap import ImapClient
from tuimail.protocols.imap_records import SelectedState
from tuimail.store.db import Store
from tuimail.store.records import FolderState

log = logging.getLogger(__name__)

# (store file, folder id) of folders whose EXAMINE reported a UIDVALIDITY the cache did not hold.
_select_only: set[tuple[Path, int]] = set()


def opens_read_only(store: Store, client: ImapClient, folder: FolderState) -> bool:
    """Whether this pass may EXAMINE the folder rather than SELECT it."""
    if (store.path, folder.id) in _select_only:
        return False
    return folder.uidvalidity is not None or "CONDSTORE" in client.capabilities


async def confirm_uidvalidity(
    store: Store,
    client: ImapClient,
    folder: FolderState,
    qresync: tuple[int, int] | None,
    account: str,
) -> SelectedState:
    """SELECT the folder whose EXAMINE reported a UIDVALIDITY the cache does not hold, return
    what SELECT reports, and SELECT that folder from now on."""
    selected = await client.select(folder.name, readonly=False, qresync=qresync)
    if selected.uidvalidity == folder.uidvalidity:
        log.info("%s/%s: UIDVALIDITY is stable only under SELECT", account, folder.name)
    _select_only.add((store.path, folder.id))
    return selected
