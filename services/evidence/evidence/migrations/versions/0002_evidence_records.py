"""Evidence records, their log, and the status of each target action.

Revision ID: 0002
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("evidence_targets", sa.Column("status", sa.String(24), nullable=False,
                                                server_default="todo"))
    op.add_column("evidence_targets", sa.Column("status_changed_at",
                                                sa.DateTime(timezone=True), nullable=True))
    op.add_column("evidence_targets", sa.Column("facility_name", sa.String(200), nullable=True))
    op.add_column("evidence_targets", sa.Column("facility_lat", sa.Float, nullable=True))
    op.add_column("evidence_targets", sa.Column("facility_lon", sa.Float, nullable=True))
    op.create_table(
        "evidence",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("action_id", sa.Uuid, nullable=False, index=True),
        sa.Column("plan_id", sa.Uuid, nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("facility_path", sa.String(400), nullable=False, index=True),
        sa.Column("uploaded_by", sa.String(64), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("object_key", sa.String(300), nullable=False, unique=True),
        sa.Column("upload_key", sa.String(300), nullable=False, unique=True),
        sa.Column("filename", sa.String(200), nullable=False, server_default=""),
        sa.Column("declared_type", sa.String(100), nullable=False, server_default=""),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gps_lat", sa.Float, nullable=True),
        sa.Column("gps_lon", sa.Float, nullable=True),
        sa.Column("thumbnail_key", sa.String(300), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("refusal_code", sa.String(40), nullable=True),
        sa.Column("refusal_reason", sa.Text, nullable=True),
        sa.Column("refusal_reason_fr", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("review_comment", sa.Text, nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(64), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purge_after", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "evidence_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("evidence_id", sa.Uuid, nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("what", sa.String(40), nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    )


def downgrade():
    op.drop_table("evidence_log")
    op.drop_table("evidence")
    for column in ("facility_lon", "facility_lat", "facility_name", "status_changed_at",
                   "status"):
        op.drop_column("evidence_targets", column)
