"""The first schema: accounts, folders, messages, bodies, POP3 UIDLs, outbox, drafts, actions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("email", sa.String, nullable=False),
    )
    op.create_table(
        "folders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("delimiter", sa.String, nullable=True),
        sa.Column("role", sa.String, nullable=True),
        sa.Column("subscribed", sa.Boolean, nullable=False),
        sa.Column("is_local", sa.Boolean, nullable=False),
        sa.Column("uidvalidity", sa.Integer, nullable=True),
        sa.Column("uidnext", sa.Integer, nullable=True),
        sa.Column("highestmodseq", sa.Integer, nullable=True),
        sa.Column("total_count", sa.Integer, nullable=False),
        sa.Column("unread_count", sa.Integer, nullable=False),
        sa.UniqueConstraint("account_id", "name"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "folder_id", sa.Integer, sa.ForeignKey("folders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("uid", sa.Integer, nullable=True),
        sa.Column("uidl", sa.String, nullable=True),
        sa.Column("message_id", sa.String, nullable=True),
        sa.Column("in_reply_to", sa.String, nullable=True),
        sa.Column("references", sa.Text, nullable=False),
        sa.Column("thread_id", sa.Integer, nullable=True),
        sa.Column("date", sa.Integer, nullable=False),
        sa.Column("internal_date", sa.Integer, nullable=True),
        sa.Column("from_name", sa.String, nullable=False),
        sa.Column("from_email", sa.String, nullable=False),
        sa.Column("to_addrs", sa.Text, nullable=False),
        sa.Column("cc_addrs", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("seen", sa.Boolean, nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("draft", sa.Boolean, nullable=False),
        sa.Column("forwarded", sa.Boolean, nullable=False),
        sa.Column("keywords", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("has_attachments", sa.Boolean, nullable=False),
        sa.Column("preview", sa.Text, nullable=False),
        sa.Column("modseq", sa.Integer, nullable=True),
    )
    op.create_index("ix_messages_folder_date", "messages", ["folder_id", "date", "id"])
    op.create_index("ix_messages_folder_uid", "messages", ["folder_id", "uid"], unique=True)
    op.create_index("ix_messages_folder_seen", "messages", ["folder_id", "seen"])
    op.create_index("ix_messages_message_id", "messages", ["message_id"])
    op.create_index("ix_messages_thread", "messages", ["folder_id", "thread_id"])
    op.create_table(
        "message_bodies",
        sa.Column(
            "message_pk",
            sa.Integer,
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("raw", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "pop3_uidls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("uidl", sa.String, nullable=False),
        sa.Column(
            "message_pk",
            sa.Integer,
            sa.ForeignKey("messages.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("stored_at", sa.Integer, nullable=False),
        sa.Column("deleted_on_server", sa.Boolean, nullable=False),
        sa.UniqueConstraint("account_id", "uidl"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("message_id", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("next_attempt_at", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column(
            "origin_pk",
            sa.Integer,
            sa.ForeignKey("messages.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("origin_action", sa.String, nullable=True),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
        sa.Column(
            "remote_message_pk",
            sa.Integer,
            sa.ForeignKey("messages.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_table(
        "pending_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "folder_id", sa.Integer, sa.ForeignKey("folders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "pending_actions",
        "drafts",
        "outbox",
        "pop3_uidls",
        "message_bodies",
        "messages",
        "folders",
        "accounts",
    ):
        op.drop_table(table)
