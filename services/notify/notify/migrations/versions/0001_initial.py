"""Inbox messages, and the platform tables.

Revision ID: 0001
"""
from alembic import op
import sqlalchemy as sa

from c2p.migrate import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("recipient_id", sa.String(64), nullable=False, index=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title_fr", sa.Text, nullable=False),
        sa.Column("title_en", sa.Text, nullable=False),
        sa.Column("body_fr", sa.Text, nullable=False),
        sa.Column("body_en", sa.Text, nullable=False),
        sa.Column("link", sa.String(400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False, index=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("recipient_id", "event_id", "kind"),
    )


def downgrade():
    for table in ("inbox_messages", "processed_events", "outbox"):
        op.drop_table(table)
