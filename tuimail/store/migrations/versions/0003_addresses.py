"""Address completion: every address seen, with how often and when the user wrote to it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("email", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("search_text", sa.String, nullable=False),
        sa.Column("written_count", sa.Integer, nullable=False),
        sa.Column("written_last", sa.Integer, nullable=False),
        sa.Column("seen_count", sa.Integer, nullable=False),
        sa.Column("seen_last", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_addresses_written",
        "addresses",
        ["written_count"],
        sqlite_where=sa.text("written_count > 0"),
    )
    op.create_index("ix_addresses_seen", "addresses", ["seen_count", "seen_last"])
    op.create_table(
        "address_words",
        sa.Column("word", sa.String, primary_key=True),
        sa.Column("email", sa.String, primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "address_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("counted_up_to", sa.Integer, nullable=False),
    )
    # Nothing counted yet: the first refresh counts every stored message.
    op.execute("INSERT INTO address_state (id, counted_up_to) VALUES (1, 0)")
    # Messages newer than counted_up_to are the ones to count, so inserting costs nothing (a
    # trigger per insert slowed a first sync by a fifth). But SQLite gives a new message the
    # highest id + 1, so once the newest counted messages are deleted their ids come back:
    # counted_up_to must then drop to the highest id left, or those messages would be skipped.
    op.execute(
        "CREATE TRIGGER address_state_delete AFTER DELETE ON messages "
        "WHEN old.id <= (SELECT counted_up_to FROM address_state WHERE id = 1) BEGIN "
        "UPDATE address_state SET counted_up_to = "
        "min(counted_up_to, coalesce((SELECT max(id) FROM messages), 0)) WHERE id = 1; END"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER address_state_delete")
    op.drop_table("address_state")
    op.drop_table("address_words")
    op.drop_index("ix_addresses_seen", "addresses")
    op.drop_index("ix_addresses_written", "addresses")
    op.drop_table("addresses")
