"""Drop the indexes on (folder_id, thread_id) and on message_id: no query reads either, and a
first sync wrote both for every message (together a sixth of its SQLite time).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Threads are built in Python from Message-ID, In-Reply-To and References (mail/threads.py)
    # over an account's rows; thread_id is never written. The one lookup by message_id, of
    # stand-ins in action_queries.drop_placeholders, goes through (folder_id, uid IS NULL).
    op.drop_index("ix_messages_thread", table_name="messages")
    op.drop_index("ix_messages_message_id", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_message_id", "messages", ["message_id"])
    op.create_index("ix_messages_thread", "messages", ["folder_id", "thread_id"])
