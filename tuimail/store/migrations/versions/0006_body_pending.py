"""Body indexing after the download: ``offline = "full"`` stores the bytes of each body in
batches without reading them, and ``body_pending`` lists the messages whose body text is not in
the search index yet; ``body_index_queries`` indexes them after the download or before a search.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "body_pending",
        sa.Column(
            "message_pk",
            sa.Integer,
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )


def downgrade() -> None:
    # The older schema has no list: those messages stay findable by headers and preview.
    op.drop_table("body_pending")
