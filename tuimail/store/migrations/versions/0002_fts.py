"""Full-text search: an FTS5 index over subject, addresses and body text, filled from the store.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # rowid = messages.id. A plain (content-storing) FTS5 table: SQLite 3.40 on Debian 12 has
    # no contentless_delete, and deletes must stay simple and exact.
    op.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5("
        "subject, addresses, body, tokenize = 'unicode61 remove_diacritics 2')"
    )
    # Existing messages become searchable by subject and addresses at once; bodies are added
    # as they are read or fetched.
    op.execute(
        "INSERT INTO messages_fts (rowid, subject, addresses, body) "
        "SELECT id, subject, from_name || ' ' || from_email || ' ' || to_addrs || ' ' || cc_addrs, "
        "preview FROM messages"
    )
    op.execute(
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "DELETE FROM messages_fts WHERE rowid = old.id; END"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER messages_fts_delete")
    op.execute("DROP TABLE messages_fts")
