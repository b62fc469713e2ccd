"""When the evidence service last asked the checklist service where a facility is.

Revision ID: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("evidence_targets", sa.Column("facility_located_at",
                                                sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column("evidence_targets", "facility_located_at")
