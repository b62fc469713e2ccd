"""Org units linked to DHIS2, template authorship, submission columns and gaps for queries.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PATTERN = "varchar_pattern_ops"


def upgrade():
    op.add_column("org_units", sa.Column("dhis2_id", sa.String(64), nullable=True))
    op.add_column("org_units", sa.Column("code", sa.String(64), nullable=True))
    op.add_column("org_units", sa.Column("latitude", sa.Float, nullable=True))
    op.add_column("org_units", sa.Column("longitude", sa.Float, nullable=True))
    op.add_column("org_units", sa.Column("updated_at", sa.DateTime(timezone=True),
                                         nullable=True))
    op.create_unique_constraint("uq_org_units_dhis2_id", "org_units", ["dhis2_id"])
    op.create_index("ix_org_units_parent_id", "org_units", ["parent_id"])
    op.create_index("ix_org_units_path_pattern", "org_units", ["path"],
                    postgresql_ops={"path": PATTERN})

    op.add_column("template_versions", sa.Column("published_by", sa.String(64), nullable=True))

    op.add_column("submissions", sa.Column("comment", sa.Text, nullable=True))
    op.add_column("submissions", sa.Column("percent", sa.Float, nullable=True))
    op.add_column("submissions", sa.Column("colour", sa.String(8), nullable=True))
    op.add_column("submissions", sa.Column("flagged", sa.Boolean, nullable=True))
    op.add_column("submissions", sa.Column("request_hash", sa.String(64), nullable=True))
    op.execute("update submissions set percent = (score->>'percent')::float, "
               "colour = score->>'colour', flagged = (score->>'flagged')::boolean")
    op.create_index("ix_submissions_facility_visited", "submissions",
                    ["facility_id", "visited_at"])
    op.create_index("ix_submissions_path_visited", "submissions",
                    ["facility_path", "visited_at"], postgresql_ops={"facility_path": PATTERN})
    op.create_index("ix_submissions_coach_visited", "submissions", ["coach_id", "visited_at"])

    op.create_table(
        "submission_gaps",
        sa.Column("submission_id", sa.Uuid,
                  sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("item_code", sa.String(64), primary_key=True),
        sa.Column("section_code", sa.String(64), nullable=False),
        sa.Column("template_id", sa.Integer, sa.ForeignKey("template_versions.id"),
                  nullable=False),
        sa.Column("facility_path", sa.String(400), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("partial", sa.Boolean, nullable=False),
    )
    op.create_index("ix_submission_gaps_path_visited", "submission_gaps",
                    ["facility_path", "visited_at"], postgresql_ops={"facility_path": PATTERN})
    op.execute("""
        insert into submission_gaps (submission_id, item_code, section_code, template_id,
                                     facility_path, visited_at, critical, partial)
        select s.id, g->>'item_code', g->>'section_code', s.template_id, s.facility_path,
               s.visited_at, (g->>'critical')::boolean, (g->>'points_lost')::float
               < coalesce((select (i->>'points')::float
                  from template_versions t,
                       jsonb_array_elements(t.definition->'sections') sec,
                       jsonb_array_elements(sec->'items') i
                  where t.id = s.template_id and i->>'code' = g->>'item_code'), 0)
        from submissions s, jsonb_array_elements(s.gaps) g
        on conflict do nothing
    """)


def downgrade():
    op.drop_table("submission_gaps")
    for name in ("ix_submissions_coach_visited", "ix_submissions_path_visited",
                 "ix_submissions_facility_visited"):
        op.drop_index(name, table_name="submissions")
    for column in ("request_hash", "flagged", "colour", "percent", "comment"):
        op.drop_column("submissions", column)
    op.drop_column("template_versions", "published_by")
    op.drop_index("ix_org_units_path_pattern", table_name="org_units")
    op.drop_index("ix_org_units_parent_id", table_name="org_units")
    op.drop_constraint("uq_org_units_dhis2_id", "org_units")
    for column in ("updated_at", "longitude", "latitude", "code", "dhis2_id"):
        op.drop_column("org_units", column)
