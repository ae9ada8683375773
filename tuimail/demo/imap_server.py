"""The demo IMAP server: pymap's in-memory ("dict") backend on a loopback port.

pymap serves IMAP4rev1 with IDLE, UIDPLUS and MOVE from Python objects, so the demo needs no
files and no second process. Two things are added on top of its dict backend:

* special-use attributes (RFC 6154) on LIST, so Sent, Drafts, Trash, Junk and Archive get their
  roles in tuimail as they would on a real server (pymap lists names only);
* a check before storing a message: pymap's ENVELOPE breaks the whole connection on a Date
  header it cannot parse, so such a Date is replaced (the rest of a malformed message stays).

Logins use a cheap password hash: the password is a demo constant, and pymap's default
(500,000 PBKDF2 rounds) would add a noticeable pause to every connection.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import uuid
from argparse import Namespace
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from proxyprotocol.sock import SocketInfo
from pymap.backend.dict import Config as DictConfig
from pymap.backend.dict import Identity as DictIdentity
from pymap.backend.dict import Login as DictLogin
from pymap.backend.dict import Session as DictSession
from pymap.backend.dict.mailbox import MailboxSet
from pymap.concurrent import Subsystem
from pymap.config import BackendCapability
from pymap.imap import IMAPServer
from pymap.interfaces.login import IdentityInterface
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials.flag import Flag
from pymap.selected import SelectedMailbox
from pymap.user import Passwords, UserMetadata
from pysasl.hashing import BuiltinHash

from tuimail.demo.listener import LoopbackListener
from tuimail.demo.seed import SeedFolder

_DATE = re.compile(rb"^Date:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*", re.MULTILINE | re.IGNORECASE)
_HASH_ROUNDS = 1000
# pymap traces every line on the wire at DEBUG, the AUTHENTICATE exchange included: with
# ``tuimail --debug --demo`` that would put the (demo) password into the log file.
_PYMAP_LOG_LEVEL = logging.INFO

ListEntries = Iterable[tuple[str, str | None, Sequence[bytes]]]


def servable(raw: bytes, now: datetime | None = None) -> bytes:
    """``raw`` with a Date header pymap can render (an unparseable one becomes ``now``)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    match = _DATE.search(head)
    if match is None:
        return raw
    value = match[0].partition(b":")[2].decode("ascii", "replace").strip()
    try:
        # The parser pymap's Date header uses; it fails where pymap would.
        parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        date = format_datetime(now or datetime.now(UTC)).encode()
        return head[: match.start()] + b"Date: " + date + head[match.end() :] + sep + body
    return raw


class _Config(DictConfig):
    """The dict backend's settings, announcing SPECIAL-USE and a greeting without DNS."""

    special_use: Mapping[str, bytes] = {}

    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(
            idle=True, object_id=True, multi_append=True, custom=[b"SPECIAL-USE"]
        )

    @property
    def greeting(self) -> bytes:
        # pymap's default asks socket.getfqdn(), which can wait on DNS for seconds.
        return b"tuimail demo IMAP server ready"


class _Session(DictSession):
    """A dict-backend session whose LIST shows each folder's special-use attribute."""

    async def list_mailboxes(
        self,
        ref_name: str,
        filter_: str,
        subscribed: bool = False,
        selected: SelectedMailbox | None = None,
    ) -> tuple[ListEntries, SelectedMailbox | None]:
        entries, updates = await super().list_mailboxes(ref_name, filter_, subscribed, selected)
        special = self.config.special_use if isinstance(self.config, _Config) else {}
        listed = [
            (name, delimiter, [*attributes, special[name]] if name in special else attributes)
            for name, delimiter, attributes in entries
        ]
        return listed, updates


class _Identity(DictIdentity):
    """A dict-backend identity that opens :class:`_Session` sessions."""

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[_Session]:
        async with super().new_session() as session:
            yield _Session(session.owner, session.config, session.mailbox_set, session.filter_set)


class _Login(DictLogin):
    """The dict backend's login, handing out :class:`_Identity`."""

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> _Identity:
        identity = await super().authorize(authenticated, authzid)
        return _Identity(identity.name, self, None, identity.roles)


class DemoImapServer:
    """One user's in-memory mailboxes served over IMAP on a loopback port."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._listener = LoopbackListener("demo IMAP", self._connection)
        self._imap: IMAPServer | None = None
        self._mailboxes: MailboxSet | None = None

    @property
    def port(self) -> int:
        """The port it listens on (0 before start)."""
        return self._listener.port

    async def start(self, host: str, folders: Sequence[SeedFolder]) -> int:
        """Fill the folders and start listening on a free port of ``host``; returns the port."""
        config = _Config(
            # pymap reads these few command-line options even when it is not run from one.
            Namespace(debug=False, passlib_cfg=None, proxy_protocol=None, inherited_sockets=None),
            host=host,
            port=0,
            demo_data=False,
            demo_user=self.username,
            demo_password=self._password,
            tls_enabled=False,
            # Given explicitly so pymap neither reads CERT_FILE/KEY_FILE from the environment
            # nor starts a thread pool for password hashing.
            ssl_context=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
            hash_context=BuiltinHash(rounds=_HASH_ROUNDS),
            cpu_subsystem=Subsystem.for_asyncio(),
            reject_dnsbl=False,
        )
        config.special_use = {f.name: f.special_use.encode()[1:] for f in folders if f.special_use}
        config.apply_context()
        logging.getLogger("pymap").setLevel(_PYMAP_LOG_LEVEL)
        login = _Login(config)
        hashed = await Passwords(config).hash_password(self._password)
        await login.demo_user_identity.set(UserMetadata(config, self.username, password=hashed))
        async with _Identity(self.username, login, None, frozenset()).new_session() as session:
            self._mailboxes = session.mailbox_set
        for folder in folders:
            await self._fill(folder)
        self._imap = IMAPServer(login, config)
        return await self._listener.start(host)

    async def _fill(self, folder: SeedFolder) -> None:
        assert self._mailboxes is not None
        if folder.name != "INBOX":
            await self._mailboxes.add_mailbox(folder.name)
        await self._mailboxes.set_subscribed(folder.name, True)
        mailbox = await self._mailboxes.get_mailbox(folder.name)
        for message in folder.messages:
            flags = frozenset(Flag(flag) for flag in message.flags)
            raw = servable(message.raw, message.when)
            await mailbox.append(AppendMessage(raw, message.when, flags))

    async def deliver(self, raw: bytes) -> None:
        """Put a message into the INBOX as new mail; a client in IDLE hears of it at once."""
        if self._mailboxes is None:
            raise RuntimeError("the demo IMAP server is not running")
        inbox = await self._mailboxes.get_mailbox("INBOX")
        when = datetime.now(UTC)
        await inbox.append(AppendMessage(servable(raw, when), when, frozenset()), recent=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._imap is not None
        info = SocketInfo.get(writer, None, unique_id=uuid.uuid4().bytes)
        await self._imap(reader, writer, info)

    async def stop(self) -> None:
        """Stop listening and end every connection (the mailboxes are dropped with the object)."""
        await self._listener.stop()
