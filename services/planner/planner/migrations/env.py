"""Alembic environment of the planner service (see c2p.migrate)."""
from alembic import context

from c2p.migrate import run_env
from planner.models import Base

run_env(context, Base.metadata)
