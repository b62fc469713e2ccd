"""Boundaries a tool keeps: each service and the gateway import only themselves and
`c2p` (import-linter, contracts in pyproject.toml), and only an entrypoint commits
mid-worker, through the unit of work (helpers never commit)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    here = os.getcwd()
    os.chdir(ROOT)  # import-linter reads its contracts from ./pyproject.toml
    try:
        assert lint_imports(no_cache=True) == 0, "an import crosses a boundary: see above"
    finally:
        os.chdir(here)


def test_only_entrypoints_commit_and_only_through_the_unit_of_work():
    offenders = []
    for path in [*ROOT.glob("services/*/*/**/*.py"), *ROOT.glob("gateway/**/*.py")]:
        if "migrations" in path.parts:
            continue
        entrypoints = path.name == "service.py" or path.parent.name == "routes"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.commit\(\)", line) and not (
                    entrypoints and "self.db.commit()" in line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
