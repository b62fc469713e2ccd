"""Org units, template versions, submissions, and the platform tables.

Revision ID: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from c2p.migrate import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    op.create_table(
        "org_units",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("org_units.id"), nullable=True),
        sa.Column("path", sa.String(400), nullable=False, unique=True, index=True),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint("code", "version"),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("facility_id", sa.String(64), sa.ForeignKey("org_units.id"), nullable=False,
                  index=True),
        sa.Column("facility_path", sa.String(400), nullable=False, index=True),
        sa.Column("coach_id", sa.String(64), nullable=False, index=True),
        sa.Column("template_id", sa.Integer, sa.ForeignKey("template_versions.id"),
                  nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("coachees", JSONB, nullable=False),
        sa.Column("answers", JSONB, nullable=False),
        sa.Column("gps", JSONB, nullable=True),
        sa.Column("score", JSONB, nullable=False),
        sa.Column("gaps", JSONB, nullable=False),
    )


def downgrade():
    for table in ("submissions", "template_versions", "org_units", "processed_events", "outbox"):
        op.drop_table(table)
