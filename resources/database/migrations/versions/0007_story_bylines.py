"""stories keep where they were first posted (subreddit, author, score; a publication), for the hook card

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as table:
        table.add_column(sa.Column("byline", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stories") as table:
        table.drop_column("byline")
