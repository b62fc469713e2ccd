# One image for every C2P process. The command picks what runs:
#
#   python -m c2p.run checklist|planner|evidence|notify|hmis|gateway
#   python -m hmis.export period YYYYMM [--dry-run]
#   python -m c2p.migrate          python -m c2p.seed
#   python -m c2p.deadletters list|replay
#
# See deploy/README.md and docker-compose.yml.

# --- web: the field app and desk view (web/), built by Vite ------------------
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# --- build: install the project (non-editable) into a virtualenv -------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/c2p
WORKDIR /src
# Dependencies first (pinned in pyproject.toml), in their own layer, so a code
# change does not reinstall them.
COPY pyproject.toml ./
RUN /opt/c2p/bin/python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && /opt/c2p/bin/pip install -r /tmp/requirements.txt
COPY c2p ./c2p
COPY gateway ./gateway
COPY services ./services
# `pip install .` builds a wheel: the alembic migrations (env.py, versions/,
# script.py.mako) and checklist templates (*.json) are package data inside it.
# The check runs from / so that it imports the installed packages, not /src.
RUN /opt/c2p/bin/pip install . \
 && cd / && /opt/c2p/bin/python -W ignore -c "import c2p.migrate as m; [m.migrations_dir(s).joinpath('env.py').read_text() for s in ('checklist','planner','evidence','notify','hmis','gateway')]; import checklist.seed as c; assert list(c.TEMPLATES_DIR.glob('*.json'))"

# --- runtime: the virtualenv only, no sources, no build tools ----------------
FROM python:3.11-slim

ENV PATH=/opt/c2p/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONWARNINGS=ignore

RUN groupadd --system --gid 10001 c2p \
 && useradd --system --uid 10001 --gid c2p --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin c2p \
 && mkdir /app && chown c2p:c2p /app

COPY --from=build /opt/c2p /opt/c2p
# The built web app, served by the gateway at `/` (C2P_WEB_DIST).
COPY --from=web /web/dist /opt/c2p-web
ENV C2P_WEB_DIST=/opt/c2p-web

# An empty working directory: `python -m` puts it first on sys.path, so it must
# not hold a source tree that would shadow the installed packages.
WORKDIR /app
USER c2p:c2p

# Only the gateway listens (GATEWAY_PORT, default 8000).
EXPOSE 8000 9100

CMD ["python", "-c", "import sys; print('usage: docker run <image> python -m c2p.run checklist|planner|evidence|notify|hmis|gateway\\n       docker run <image> python -m c2p.migrate [service ...]\\n       docker run <image> python -m c2p.seed\\n       docker run <image> python -m c2p.deadletters list|replay [--queue Q] [--id ID]\\nSettings come from environment variables: see deploy/README.md.'); sys.exit(2)"]
