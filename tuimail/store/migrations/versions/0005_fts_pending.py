"""Search indexing after the sync: messages stored from their headers alone (IMAP) are indexed
for search by ``search_queries.index_pending`` once the sync is done or before a search, not
inside the sync's transactions, where it was a third of SQLite's time.

``fts_pending`` holds one row per inserted batch: the first and last message id it took.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fts_pending",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("first_id", sa.Integer, nullable=False),
        sa.Column("last_id", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    # The older schema expects every message in the index: index what waits, then forget it.
    op.execute(
        "INSERT INTO messages_fts (rowid, subject, addresses, body) "
        "SELECT m.id, m.subject, m.from_name || ' ' || m.from_email || ' ' || m.to_addrs || ' ' "
        "|| m.cc_addrs, m.preview FROM messages m "
        "WHERE EXISTS (SELECT 1 FROM fts_pending p WHERE m.id BETWEEN p.first_id AND p.last_id) "
        "AND m.id NOT IN (SELECT rowid FROM messages_fts)"
    )
    op.drop_table("fts_pending")
