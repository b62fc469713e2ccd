"""The dashboards' read models (latest visit per facility and template, monthly visit and
gap counts per district), their triggers, and their backfill from the stored visits.

Revision ID: 0004_read_models
Revises: 0003_dhis2_import_jobs
"""
from alembic import op
import sqlalchemy as sa

from checklist import read_models

revision = "0004_read_models"
down_revision = "0003_dhis2_import_jobs"
branch_labels = None
depends_on = None

PATTERN = "varchar_pattern_ops"


def upgrade():
    op.create_table(
        "latest_visits",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("template_code", sa.String(64), primary_key=True),
        sa.Column("facility_path", sa.String(400), nullable=False),
        sa.Column("submission_id", sa.Uuid, nullable=False),
        sa.Column("template_id", sa.Integer, nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("percent", sa.Float, nullable=True),
        sa.Column("colour", sa.String(8), nullable=True),
        sa.Column("flagged", sa.Boolean, nullable=True),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("first_submission_id", sa.Uuid, nullable=False),
        sa.Column("first_visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_percent", sa.Float, nullable=True),
    )
    op.create_index("ix_latest_visits_code_path", "latest_visits",
                    ["template_code", "facility_path"],
                    postgresql_ops={"facility_path": PATTERN})
    op.create_table(
        "monthly_visits",
        sa.Column("district_path", sa.String(400), primary_key=True),
        sa.Column("template_id", sa.Integer, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("first_visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_visited_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "monthly_gaps",
        sa.Column("district_path", sa.String(400), primary_key=True),
        sa.Column("template_id", sa.Integer, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("item_code", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("partial", sa.Integer, nullable=False),
    )
    bind = op.get_bind()
    # Writers wait while the models are filled: no visit is missed between the
    # backfill and the triggers taking over.
    bind.execute(sa.text("lock table submissions, submission_gaps in share row exclusive mode"))
    read_models.install(bind)
    read_models.rebuild(bind)


def downgrade():
    for table in ("submissions", "submission_gaps"):
        for event in ("insert", "delete", "update", "truncate"):
            op.execute(f"drop trigger if exists {table}_read_models_{event} on {table}")
    for name in ("visits_inserted", "visits_deleted", "visits_updated", "visits_truncated",
                 "gaps_inserted", "gaps_deleted", "gaps_updated", "gaps_truncated"):
        op.execute(f"drop function if exists checklist_{name}()")
    op.execute("drop function if exists checklist_rebuild_latest_visits(text[])")
    for table in ("monthly_gaps", "monthly_visits", "latest_visits"):
        op.drop_table(table)
