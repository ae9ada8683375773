"""The tables of the local store.

Narrow rows for the index (``messages``), bodies kept apart (``message_bodies``) so that a page of
the index never reads a megabyte of attachment. Times are stored as integer Unix seconds (UTC),
which sort and index cheaply.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    kind: Mapped[str] = mapped_column(String)  # "imap" | "pop3"
    email: Mapped[str] = mapped_column(String, default="")


class Folder(Base):
    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String)  # the server's name (decoded), "/"-free key
    delimiter: Mapped[str | None] = mapped_column(String, nullable=True)
    role: Mapped[str | None] = mapped_column(String, nullable=True)  # inbox/sent/drafts/...
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)  # POP3 folders live only here
    uidvalidity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uidnext: Mapped[int | None] = mapped_column(Integer, nullable=True)
    highestmodseq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    unread_count: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A page of the index sorted by date; id breaks ties so paging is stable.
        Index("ix_messages_folder_date", "folder_id", "date", "id"),
        # UID lookups and incremental sync; unique so a re-run can never duplicate a message.
        Index("ix_messages_folder_uid", "folder_id", "uid", unique=True),
        Index("ix_messages_folder_seen", "folder_id", "seen"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"))
    uid: Mapped[int | None] = mapped_column(Integer, nullable=True)  # IMAP UID; NULL locally
    uidl: Mapped[str | None] = mapped_column(String, nullable=True)  # POP3 UIDL it came from
    message_id: Mapped[str | None] = mapped_column(String, nullable=True)
    in_reply_to: Mapped[str | None] = mapped_column(String, nullable=True)
    references: Mapped[str] = mapped_column(Text, default="")  # space-separated <ids>
    thread_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # not filled in yet
    date: Mapped[int] = mapped_column(Integer, default=0)  # Date header, Unix seconds
    internal_date: Mapped[int | None] = mapped_column(Integer, nullable=True)  # arrival
    from_name: Mapped[str] = mapped_column(String, default="")
    from_email: Mapped[str] = mapped_column(String, default="")
    to_addrs: Mapped[str] = mapped_column(Text, default="")  # "Name <a@b>, c@d"
    cc_addrs: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    keywords: Mapped[str] = mapped_column(Text, default="")  # other IMAP keywords
    size: Mapped[int] = mapped_column(Integer, default=0)
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    preview: Mapped[str] = mapped_column(Text, default="")
    modseq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class MessageBody(Base):
    """The raw RFC 5322 bytes of a message, once fetched (always, for POP3 mail)."""

    __tablename__ = "message_bodies"

    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class Pop3Uidl(Base):
    """Every UIDL ever stored for a POP3 account, so a message is downloaded exactly once."""

    __tablename__ = "pop3_uidls"
    __table_args__ = (UniqueConstraint("account_id", "uidl"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    uidl: Mapped[str] = mapped_column(String)
    # The stored copy; NULL once the user deleted it locally (the UIDL is still remembered).
    message_pk: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    stored_at: Mapped[int] = mapped_column(Integer)  # Unix seconds, for delete_after_days
    deleted_on_server: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxEntry(Base):
    """A message waiting to be sent; committed before the first attempt."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # the message as sent (no Bcc header)
    sender: Mapped[str] = mapped_column(String)  # envelope MAIL FROM
    recipients: Mapped[str] = mapped_column(Text)  # envelope RCPT TO, newline-separated
    message_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String, default="queued")  # queued/sending/failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(Integer)
    # What to mark once sent: the local message replied to (\Answered) or forwarded.
    origin_pk: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    origin_action: Mapped[str | None] = mapped_column(String, nullable=True)
    # Due time (Unix seconds) of a delayed or scheduled message; NULL: at once.
    send_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The message as composed (Bcc kept, no signature), for taking it back to the composer.
    draft_raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Draft(Base):
    """A message being composed; autosaved so a crash loses at most a few seconds of typing."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[int] = mapped_column(Integer)
    remote_message_pk: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )


class PendingAction(Base):
    """A change made offline (or not yet confirmed), replayed against the server in order."""

    __tablename__ = "pending_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String)  # flags/move/copy/delete/expunge/append
    payload: Mapped[str] = mapped_column(Text)  # JSON: uids, flags, target folder
    created_at: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class KnownAddress(Base):
    """An address seen in the store: how often and when the user last wrote to it, and how often
    it sent mail. Derived from ``messages`` (see ``address_queries``) for address completion."""

    __tablename__ = "addresses"
    __table_args__ = (
        # The few addresses written to, scanned whole; the rest walked in received order.
        Index("ix_addresses_written", "written_count", sqlite_where=text("written_count > 0")),
        Index("ix_addresses_seen", "seen_count", "seen_last"),
    )

    email: Mapped[str] = mapped_column(String, primary_key=True)  # casefolded
    name: Mapped[str] = mapped_column(String, default="")  # the latest display name seen
    # " name email", casefolded: a prefix of any word is a substring after a space.
    search_text: Mapped[str] = mapped_column(String, default="")
    written_count: Mapped[int] = mapped_column(Integer, default=0)
    written_last: Mapped[int] = mapped_column(Integer, default=0)  # Unix seconds
    seen_count: Mapped[int] = mapped_column(Integer, default=0)  # as the From of received mail
    seen_last: Mapped[int] = mapped_column(Integer, default=0)


class AddressWord(Base):
    """Each word of an address's name (from that word to the end) and the address itself, so a
    prefix finds its few addresses through an index instead of reading them all."""

    __tablename__ = "address_words"
    __table_args__ = ({"sqlite_with_rowid": False},)

    word: Mapped[str] = mapped_column(String, primary_key=True)
    email: Mapped[str] = mapped_column(String, primary_key=True)


class AddressState(Base):
    """One row: the highest message id whose addresses are counted in ``addresses``; newer
    messages are counted by ``address_queries.refresh_addresses``."""

    __tablename__ = "address_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counted_up_to: Mapped[int] = mapped_column(Integer, default=0)


class FtsPending(Base):
    """A batch of messages stored without being indexed for search (ids first_id..last_id);
    ``search_queries.index_pending`` indexes them and deletes the row."""

    __tablename__ = "fts_pending"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer)


class BodyPending(Base):
    """A message whose downloaded body is stored but not yet in the search index;
    ``body_index_queries`` indexes it and deletes the row."""

    __tablename__ = "body_pending"

    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )


# The FTS5 index is a virtual table; SQLAlchemy does not model those, so the migration creates
# it and store/queries.py speaks to it in SQL. rowid = messages.id.
FTS_TABLE = "messages_fts"
FTS_COLUMNS = ("subject", "addresses", "body")
