"""Undo send and send later: an outbox entry gets the time it is due (``send_at``, NULL for
"at once": every entry queued before this revision) and the message as it was composed
(``draft_raw``, Bcc included, no signature yet), so taking it back restores the composer exactly.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("send_at", sa.Integer, nullable=True))
        batch.add_column(sa.Column("draft_raw", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    # The older schema sends everything at once: a scheduled entry is due at its time anyway
    # through next_attempt_at, which it keeps.
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("draft_raw")
        batch.drop_column("send_at")
