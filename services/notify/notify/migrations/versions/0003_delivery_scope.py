"""The facility path of each delivery, so the delivery log is scoped like everything else.

Revision ID: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("deliveries", sa.Column("facility_path", sa.String(400), nullable=True))
    op.create_index("ix_deliveries_facility_path", "deliveries", ["facility_path"])


def downgrade():
    op.drop_index("ix_deliveries_facility_path", "deliveries")
    op.drop_column("deliveries", "facility_path")
