"""When each evidence's upload slot expires, and when its upload key was last swept.

Revision ID: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("evidence", sa.Column("slot_expires_at", sa.DateTime(timezone=True),
                                        nullable=True, index=True))
    op.add_column("evidence", sa.Column("upload_swept_at", sa.DateTime(timezone=True),
                                        nullable=True))


def downgrade():
    op.drop_column("evidence", "upload_swept_at")
    op.drop_column("evidence", "slot_expires_at")
