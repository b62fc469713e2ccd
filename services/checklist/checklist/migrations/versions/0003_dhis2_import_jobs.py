"""Org-unit imports from a DHIS2 server, as jobs with their progress.

Revision ID: 0003_dhis2_import_jobs
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_dhis2_import_jobs"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("scope", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("phase", sa.String(16), nullable=True),
        sa.Column("progress", JSONB, nullable=False),
        sa.Column("summary", JSONB, nullable=True),
        sa.Column("lines", JSONB, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table("import_jobs")
