"""HMIS replicas (visits, actions), facility-months, the DHIS2 mapping, sent values,
export runs, and the platform tables.

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

NOW = sa.func.now()


def upgrade():
    create_platform_tables(op)
    op.create_table(
        "hmis_visits",
        sa.Column("submission_id", sa.Uuid, primary_key=True),
        sa.Column("facility_id", sa.String(64), nullable=False, index=True),
        sa.Column("facility_path", sa.String(400), nullable=False),
        sa.Column("facility_name", sa.String(200), nullable=False),
        sa.Column("period", sa.String(6), nullable=False, index=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("percent", sa.Float, nullable=True),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("sections", JSONB, nullable=False),
        sa.Column("template_code", sa.String(64), nullable=False),
    )
    op.create_table(
        "hmis_sections",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("title_fr", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
    )
    op.create_table(
        "hmis_actions",
        sa.Column("action_id", sa.Uuid, primary_key=True),
        sa.Column("facility_id", sa.String(64), nullable=False, index=True),
        sa.Column("facility_path", sa.String(400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hmis_facility_months",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(6), primary_key=True),
        sa.Column("facility_path", sa.String(400), nullable=False),
        sa.Column("dirty", sa.Boolean, nullable=False, index=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=NOW,
                  nullable=False),
    )
    op.create_table(
        "hmis_facilities",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("dhis2_id", sa.String(64), nullable=True),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), server_default=NOW,
                  nullable=False),
    )
    op.create_table(
        "hmis_mapping",
        sa.Column("figure", sa.String(80), primary_key=True),
        sa.Column("data_element", sa.String(64), nullable=False),
        sa.Column("category_option_combo", sa.String(64), nullable=True),
        sa.Column("id_scheme", sa.String(8), nullable=False),
    )
    op.create_table(
        "hmis_export_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_unit_scheme", sa.String(8), nullable=False),
        sa.Column("data_set", sa.String(64), nullable=True),
        sa.Column("mapping_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mapping_updated_by", sa.String(64), nullable=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    # The one row: the exporter locks it (FOR UPDATE SKIP LOCKED), so replicas,
    # the command and the API never export at the same time.
    op.execute("insert into hmis_export_state (id, org_unit_scheme, failures) "
               "values (1, 'UID', 0)")
    op.create_table(
        "hmis_sent_values",
        sa.Column("facility_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(6), primary_key=True),
        sa.Column("figure", sa.String(80), primary_key=True),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("retry_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hmis_export_runs",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=True),
        sa.Column("scope", JSONB, nullable=False),
        sa.Column("period", sa.String(6), nullable=True),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("send_all", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW,
                  nullable=False, index=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("values_sent", sa.Integer, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("ignored", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Integer, nullable=False),
        sa.Column("conflicts", JSONB, nullable=False),
        sa.Column("skipped", JSONB, nullable=False),
        sa.Column("payloads", JSONB, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )


def downgrade():
    for table in ("hmis_export_runs", "hmis_sent_values", "hmis_export_state",
                  "hmis_mapping", "hmis_facilities", "hmis_facility_months",
                  "hmis_actions", "hmis_sections", "hmis_visits", "processed_events", "outbox"):
        op.drop_table(table)
