"""Accounts, and the platform tables.

Revision ID: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from c2p.migrate import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(120), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("scope", ARRAY(sa.String(400)), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )


def downgrade():
    for table in ("accounts", "processed_events", "outbox"):
        op.drop_table(table)
