"""intake: the approval gate and dedupe columns on stories, source cursors and skips, webhooks and their
delivery log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as table:
        table.add_column(
            sa.Column("approval", sa.String(length=16), nullable=False, server_default="approved")
        )
        table.add_column(sa.Column("approval_note", sa.Text(), nullable=True))
        table.add_column(sa.Column("approval_by", sa.String(length=200), nullable=True))
        table.add_column(sa.Column("approval_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("canonical_url", sa.Text(), nullable=True))
        table.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        table.drop_column("approved")
    op.create_index("ix_stories_canonical_url", "stories", ["canonical_url"])
    op.create_index("ix_stories_content_hash", "stories", ["content_hash"])
    op.create_index("ix_stories_created", "stories", ["created_at", "key"])
    op.create_index("ix_stories_approval_created", "stories", ["approval", "created_at"])
    op.create_table(
        "source_cursors",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "source_skips",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("item_ref", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "item_ref", name="uq_source_skip"),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "webhook_id", sa.Integer(), sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("source_skips")
    op.drop_table("source_cursors")
    op.drop_index("ix_stories_approval_created", table_name="stories")
    op.drop_index("ix_stories_created", table_name="stories")
    op.drop_index("ix_stories_content_hash", table_name="stories")
    op.drop_index("ix_stories_canonical_url", table_name="stories")
    with op.batch_alter_table("stories") as table:
        table.add_column(sa.Column("approved", sa.Boolean(), nullable=False, server_default=sa.true()))
        table.drop_column("content_hash")
        table.drop_column("canonical_url")
        table.drop_column("approval_at")
        table.drop_column("approval_by")
        table.drop_column("approval_note")
        table.drop_column("approval")
