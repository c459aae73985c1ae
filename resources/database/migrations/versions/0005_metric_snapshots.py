"""metric snapshots with provenance, replacing analytics_snapshots (whose zeros could not say "unknown")

Nothing ever wrote analytics_snapshots: its rows, if any, would be zeros standing for values nobody read,
so it is dropped rather than copied.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=24), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("post_id", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("story_key", sa.String(length=200), nullable=True),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("metric_values", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("lifetime", sa.JSON(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("post_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "account", "post_id", "day", name="uq_metric_snapshot"),
    )
    op.create_index("ix_metric_snapshot_day", "metric_snapshots", ["platform", "day"])
    op.drop_table("analytics_snapshots")


def downgrade() -> None:
    op.create_table(
        "analytics_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=24), nullable=False),
        sa.Column("post_id", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("watch_time_s", sa.Float(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "post_id", "day", name="uq_snapshot_day"),
    )
    op.drop_index("ix_metric_snapshot_day", table_name="metric_snapshots")
    op.drop_table("metric_snapshots")
