"""initial app tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 20:24:19.561128
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_snapshots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=24), nullable=False),
    sa.Column('post_id', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('shares', sa.Integer(), nullable=False),
    sa.Column('watch_time_s', sa.Float(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'post_id', 'day', name='uq_snapshot_day')
    )
    op.create_table('platform_credentials',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=24), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'account', name='uq_credential_account')
    )
    op.create_table('stories',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('source_kind', sa.String(length=40), nullable=False),
    sa.Column('source_ref', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('manual_queue',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('story_key', sa.String(length=200), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('export_path', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_url', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['story_key'], ['stories.key'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('publish_ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('story_key', sa.String(length=200), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=24), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('video_sha256', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('platform_ids', sa.JSON(), nullable=False),
    sa.Column('post_id', sa.String(length=200), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('allow_duplicate', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['story_key'], ['stories.key'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('story_key', 'part', 'platform', 'account', name='uq_ledger_target')
    )
    with op.batch_alter_table('publish_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_video', ['platform', 'account', 'video_sha256'], unique=False)

    op.create_table('scheduled_posts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('story_key', sa.String(length=200), nullable=False),
    sa.Column('platform', sa.String(length=24), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('lane', sa.String(length=16), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['story_key'], ['stories.key'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduled_posts', schema=None) as batch_op:
        batch_op.create_index('ix_scheduled_due', ['status', 'not_before'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scheduled_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduled_due')

    op.drop_table('scheduled_posts')
    with op.batch_alter_table('publish_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_video')

    op.drop_table('publish_ledger')
    op.drop_table('manual_queue')
    op.drop_table('stories')
    op.drop_table('platform_credentials')
    op.drop_table('analytics_snapshots')
