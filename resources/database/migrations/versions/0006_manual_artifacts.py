"""manual entries keep the folders of their failed browser attempts (screenshots, page HTML, traces)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("manual_queue") as table:
        table.add_column(sa.Column("artifacts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("manual_queue") as table:
        table.drop_column("artifacts")
