"""Evidence targets, and the platform tables.

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
        "evidence_targets",
        sa.Column("action_id", sa.Uuid, primary_key=True),
        sa.Column("plan_id", sa.Uuid, nullable=False, index=True),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("facility_path", sa.String(400), nullable=False, index=True),
        sa.Column("coach_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("due_date", sa.Date, nullable=False),
    )


def downgrade():
    for table in ("evidence_targets", "processed_events", "outbox"):
        op.drop_table(table)
