"""The scope check in SQL (`in_scope_clause`) answers exactly as the Python one
(`in_scope`) does, run by the real PostgreSQL: every list, count and dashboard
filters rows with the first, every single read checks with the second, and a row
one of them shows and the other hides would leak or lose a district's data."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, create_engine, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from c2p.database import driver_url
from c2p.scope import all_in_scope, all_in_scope_clause, in_scope, in_scope_clause

# Characters that matter to LIKE (%, _, \), to paths (/), and to people (accents).
SEGMENT = st.text(alphabet="aB%_\\/ é.-1", min_size=0, max_size=6)
PATH = st.lists(SEGMENT, min_size=0, max_size=4).map(lambda parts: "/" + "/".join(parts))


@st.composite
def path_and_scope(draw):
    path = draw(st.one_of(PATH, SEGMENT))
    # Roots near the path (its prefixes, with or without a trailing slash, or a
    # little longer) make matches likely; free ones and blanks test the rest.
    cut = draw(st.integers(0, len(path)))
    near = st.sampled_from([path, path[:cut], path[:cut] + "/", path + "/", path + "x",
                            path.rstrip("/")])
    roots = draw(st.lists(st.one_of(near, PATH, SEGMENT, st.just(""), st.just("/")),
                          min_size=0, max_size=3))
    return path, roots


@pytest.fixture(scope="module")
def connection(infra):
    engine = create_engine(driver_url(infra["postgres"]))
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=path_and_scope())
def test_sql_and_python_scope_checks_agree(connection, case):
    path, roots = case
    in_sql = connection.execute(select(in_scope_clause(literal(path, String), roots))).scalar()
    assert bool(in_sql) is in_scope(path, roots), (path, roots)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=path_and_scope(), more=st.lists(PATH, max_size=2))
def test_sql_and_python_checks_of_an_accounts_paths_agree(connection, case, more):
    path, roots = case
    paths = [path, *more] if path else more
    in_sql = connection.execute(select(all_in_scope_clause(
        literal(paths, ARRAY(String)), roots))).scalar()
    assert bool(in_sql) is all_in_scope(paths, roots), (paths, roots)


def test_examples_that_matter():
    assert in_scope("/ML/SEG/NIONO/CSCOM-1", ["/ML/SEG/NIONO"])
    assert in_scope("/ML/SEG/NIONO/CSCOM-1", ["/ML/SEG/NIONO/"])
    assert not in_scope("/ML/SEG/NIONO-2/CSCOM", ["/ML/SEG/NIONO"])  # a sibling, not a child
    assert not in_scope("/ML/K_Y/A", ["/ML/K%"])  # LIKE's wildcards are plain characters
    assert not in_scope("/ML/SEG", [])
    assert not in_scope("/ML/SEG", [""])  # a blank root grants nothing
    assert in_scope("/ML/SEG", ["/"])
