"""Alembic environment of the hmis service (see c2p.migrate)."""
from alembic import context

from c2p.migrate import run_env
from hmis.models import Base

run_env(context, Base.metadata)
