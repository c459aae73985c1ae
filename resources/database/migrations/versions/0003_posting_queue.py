"""posting queue, manual queue with typed reasons, alert incidents; stories name platforms and a time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 14:00:00.000000

`scheduled_posts` and the first `manual_queue` were placeholders no code ever wrote; they are replaced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_due")
    op.drop_table("scheduled_posts")
    op.drop_table("manual_queue")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platforms", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("publish_after", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "post_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("story_key", sa.String(length=200), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=24), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dispatches", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("ledger_id", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_key"], ["stories.key"]),
        sa.ForeignKeyConstraint(["ledger_id"], ["publish_ledger.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("story_key", "part", "platform", "account", name="uq_queue_target"),
    )
    with op.batch_alter_table("post_queue", schema=None) as batch_op:
        batch_op.create_index("ix_queue_state", ["state", "platform", "account"], unique=False)
    op.create_table(
        "manual_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("story_key", sa.String(length=200), nullable=True),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=24), nullable=True),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("ledger_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("source_path", sa.Text(), nullable=True),
        sa.Column("export_path", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["story_key"], ["stories.key"]),
        sa.ForeignKeyConstraint(["queue_id"], ["post_queue.id"]),
        sa.ForeignKeyConstraint(["ledger_id"], ["publish_ledger.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("manual_queue", schema=None) as batch_op:
        batch_op.create_index("ix_manual_status", ["status"], unique=False)
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_key", sa.String(length=400), nullable=False),
        sa.Column("story_key", sa.String(length=200), nullable=True),
        sa.Column("platform", sa.String(length=24), nullable=True),
        sa.Column("cause", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incident_open", ["incident_key", "status"], unique=False)


def downgrade() -> None:
    op.drop_table("alert_incidents")
    op.drop_table("manual_queue")
    op.drop_table("post_queue")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_column("publish_after")
        batch_op.drop_column("platforms")
    op.create_table(
        "manual_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("story_key", sa.String(length=200), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("export_path", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["story_key"], ["stories.key"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("story_key", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=24), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_key"], ["stories.key"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scheduled_posts", schema=None) as batch_op:
        batch_op.create_index("ix_scheduled_due", ["status", "not_before"], unique=False)
