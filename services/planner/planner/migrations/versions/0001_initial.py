"""Plans, actions, and the platform tables.

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
        "plans",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("submission_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("facility_id", sa.String(64), nullable=False, index=True),
        sa.Column("facility_name", sa.String(200), nullable=False),
        sa.Column("facility_path", sa.String(400), nullable=False, index=True),
        sa.Column("coach_id", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("plan_id", sa.Uuid, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("item_code", sa.String(64), nullable=True),
        sa.Column("text_fr", sa.Text, nullable=False),
        sa.Column("text_en", sa.Text, nullable=False),
        sa.Column("verification_fr", sa.Text, nullable=False),
        sa.Column("verification_en", sa.Text, nullable=False),
        sa.Column("responsible_role", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("points_lost", sa.Float, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
    )


def downgrade():
    for table in ("actions", "plans", "processed_events", "outbox"):
        op.drop_table(table)
