"""The dashboards' read models on the real database: kept by the triggers whatever
writes the visits (late, deleted, moved), equal to a rebuild from the visits, and
counts over any period equal to counting the raw rows."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from checklist import period_counts, read_models, store

UTC = timezone.utc
MODELS = {
    "latest_visits": "facility_id, template_code",
    "monthly_visits": "district_path, template_id, month",
    "monthly_gaps": "district_path, template_id, month, item_code",
}


@pytest.fixture
def region(engines):
    """A region of two districts of two facilities each (the whole database is
    fresh for the test run; the rows are removed afterwards)."""
    tag = uuid.uuid4().hex[:6].upper()
    r = f"ML-M{tag}"
    csv_text = ("id,parent_id,level,name\n"
                f"{r},ML,region,Région {tag}\n"
                f"{r}-A,{r},district,Diéma\n{r}-B,{r},district,Nioro\n"
                f"{r}-A-1,{r}-A,facility,CSCom 1\n{r}-A-2,{r}-A,facility,CSCom 2\n"
                f"{r}-B-1,{r}-B,facility,CSCom 3\n")
    with Session(engines["checklist"]) as session, session.begin():
        store.import_org_units(session, "csv", csv_text)
    yield r
    with engines["checklist"].begin() as conn:
        like = {"p": f"/ML/{r}%"}
        conn.execute(text("delete from submissions where facility_path like :p"), like)
        for level in ("facility", "district", "region"):
            conn.execute(text("delete from org_units where path like :p and level = :l"),
                         {**like, "l": level})


def path(r, facility):
    return f"/ML/{r}/{facility.rsplit('-', 1)[0]}/{facility}"


def visit(conn, r, facility, when, percent, gaps=(), sid=None, template_code="pev-mini"):
    """A visit written straight in SQL, as a bulk loader would."""
    template_id = conn.execute(text("select id from template_versions where code = :c "
                                    "order by version desc limit 1"),
                               {"c": template_code}).scalar()
    sid = sid or uuid.uuid4()
    p = path(r, facility)
    conn.execute(text(
        "insert into submissions (id, facility_id, facility_path, coach_id, template_id, "
        "visited_at, coachees, answers, score, gaps, percent, colour, flagged) values "
        "(:id, :f, :p, 'c1', :t, :at, '[]', '{}', '{\"sections\": []}', '[]', :pc, 'red', "
        ":pc < 50)"), {"id": sid, "f": facility, "p": p, "t": template_id, "at": when,
                       "pc": percent})
    for code, partial in gaps:
        conn.execute(text("insert into submission_gaps values (:s, :i, 'sec', :t, :p, :at, "
                          "false, :partial)"),
                     {"s": sid, "i": code, "t": template_id, "p": p, "at": when,
                      "partial": partial})
    return sid


def snapshot(conn, r):
    like = {"p": f"/ML/{r}%"}
    return {table: conn.execute(text(
        f"select * from {table} where {'facility_path' if table == 'latest_visits' else 'district_path'} "
        f"like :p order by {key}"), like).all() for table, key in MODELS.items()}


def latest(conn, facility):
    return conn.execute(text("select submission_id, percent, visits, first_percent "
                             "from latest_visits where facility_id = :f"), {"f": facility}).one()


def test_triggers_keep_the_models_whatever_writes_the_visits(engines, region):
    r = region
    a1, a2, b1 = f"{r}-A-1", f"{r}-A-2", f"{r}-B-1"
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    engine = engines["checklist"]
    with engine.begin() as conn:
        newest = visit(conn, r, a1, at, 80.0, [("cc_in_range", False)])
        first = visit(conn, r, a1, at - timedelta(days=60), 40.0,
                      [("cc_in_range", False), ("dq_monitoring_chart", True)])
    with engine.begin() as conn:
        # Offline for a month: counted, but the newer visit stays the latest.
        late = visit(conn, r, a1, at - timedelta(days=30), 60.0, [("cc_in_range", True)])
        visit(conn, r, a2, at, 90.0)
        visit(conn, r, b1, at - timedelta(days=1), 30.0, [("dq_monitoring_chart", False)])
        assert latest(conn, a1) == (newest, 80.0, 3, 40.0)
        months = dict(conn.execute(text(
            "select month, visits from monthly_visits where district_path = :d"),
            {"d": f"/ML/{r}/{r}-A"}).all())
        assert {m.month: n for m, n in months.items()} == {1: 1, 2: 1, 3: 2}
        gaps = conn.execute(text(
            "select item_code, sum(failures), sum(partial) from monthly_gaps "
            "where district_path = :d group by item_code order by item_code"),
            {"d": f"/ML/{r}/{r}-A"}).all()
        assert gaps == [("cc_in_range", 3, 1), ("dq_monitoring_chart", 1, 1)]

    # A retried delivery stores nothing twice (the visit's id is its key).
    with Session(engine) as session:
        row = session.execute(text("select * from submissions where id = :s"),
                              {"s": late}).mappings().one()
        assert store.add_submission(session, dict(row)) is False
    with engine.connect() as conn:
        assert latest(conn, a1).visits == 3

    # Deleting the latest visit brings the one before back; its gaps go too.
    with engine.begin() as conn:
        conn.execute(text("delete from submissions where id = :s"), {"s": newest})
        assert latest(conn, a1) == (late, 60.0, 2, 40.0)
        assert conn.execute(text(
            "select sum(failures) from monthly_gaps where district_path = :d "
            "and item_code = 'cc_in_range'"), {"d": f"/ML/{r}/{r}-A"}).scalar() == 2

    # The importer moves a facility to the other district: its visits follow.
    with Session(engine) as session, session.begin():
        report = store.import_org_units(
            session, "csv", f"id,parent_id,level,name\n{a1},{r}-B,facility,CSCom 1\n")
        assert report["updated"] == 1
    with engine.begin() as conn:
        by_district = dict(conn.execute(text(
            "select district_path, sum(visits) from monthly_visits where district_path like :p "
            "group by district_path"), {"p": f"/ML/{r}/%"}).all())
        assert by_district == {f"/ML/{r}/{r}-A": 1, f"/ML/{r}/{r}-B": 3}
        assert conn.execute(text("select facility_path from latest_visits where facility_id = :f"),
                            {"f": a1}).scalar() == f"/ML/{r}/{r}-B/{a1}"
        kept = snapshot(conn, r)
        read_models.rebuild(conn)
        rebuilt = snapshot(conn, r)
    # first/last bounds may be wider after a deletion; everything else is equal.
    assert kept["latest_visits"] == rebuilt["latest_visits"]
    assert kept["monthly_gaps"] == rebuilt["monthly_gaps"]
    assert [row[:4] for row in kept["monthly_visits"]] == \
        [row[:4] for row in rebuilt["monthly_visits"]]


def raw_counts(conn, scope_path, start, end):
    where = "(facility_path = :root or facility_path like :p) and (cast(:s as timestamptz) is null or visited_at >= :s) " \
            "and (cast(:e as timestamptz) is null or visited_at < :e)"
    args = {"root": scope_path, "p": scope_path + "/%", "s": start, "e": end}
    visits = dict(conn.execute(text(
        f"select template_id, count(*) from submissions where {where} group by 1"), args).all())
    gaps = {code: (n, p) for code, n, p in conn.execute(text(
        f"select item_code, count(*), count(*) filter (where partial) from submission_gaps "
        f"where {where} group by 1"), args)}
    return visits, gaps


def test_counts_over_any_period_equal_the_raw_rows(engines, region):
    """Whole months from the models, cut months from the raw rows: the sum is the
    raw count, for periods on month boundaries, cutting months, open or not."""
    r = region
    engine = engines["checklist"]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for n in range(40):
            facility = (f"{r}-A-1", f"{r}-A-2", f"{r}-B-1")[n % 3]
            when = base + timedelta(days=3.7 * n, hours=n % 5)
            visit(conn, r, facility, when, 50.0,
                  [(f"item_{k}", k == n % 3) for k in range(n % 4)],
                  template_code="pev-mini" if n % 5 else "pev-integrated")
    periods = [(None, None), (base, None), (None, datetime(2026, 3, 1, tzinfo=UTC)),
               (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
               (datetime(2026, 1, 20, tzinfo=UTC), datetime(2026, 4, 11, 12, tzinfo=UTC)),
               (datetime(2026, 2, 3, tzinfo=UTC), datetime(2026, 2, 17, tzinfo=UTC)),
               (datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))]
    for scope in ([f"/ML/{r}"], [f"/ML/{r}/{r}-A"], [f"/ML/{r}/{r}-A/{r}-A-2"]):
        for start, end in periods:
            with engine.connect() as conn:
                visits, gaps = raw_counts(conn, scope[0], start, end)
            with Session(engine) as session:
                where = period_counts.Filter(scope, start, end)
                assert period_counts.visits_by_template(session, where) == visits, \
                    (scope, start, end)
                counted = period_counts.gap_counts(session, where, 100)
                assert {g["item_code"]: (g["failures"], g["partial"]) for g in counted} \
                    == gaps, (scope, start, end)


def test_roll_ups_totals_and_pages_agree_with_the_facility_rows(engines, region):
    """The roll-ups and totals aggregated in SQL are those of the facility rows
    (`dashboards.rollup`), with and without a period; a page is a slice of them."""
    from checklist import dashboards, queries
    r = region
    engine = engines["checklist"]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for n in range(12):
            facility = (f"{r}-A-1", f"{r}-A-2", f"{r}-B-1")[n % 3]
            visit(conn, r, facility, base + timedelta(days=9 * n), 20.0 + 7 * n)
    scope = [f"/ML/{r}"]
    for start in (None, datetime(2026, 2, 15, tzinfo=UTC)):
        with Session(engine) as session:
            facilities = queries.gap_report(session, scope, "facility", start)
            rows = facilities["rows"]
            assert [row["facility_id"] for row in rows] == [f"{r}-A-1", f"{r}-A-2", f"{r}-B-1"]
            for level in ("district", "region"):
                assert queries.gap_report(session, scope, level, start)["rows"] == \
                    dashboards.rollup(rows, level)
            totals = facilities["totals"]
            assert (totals["facilities"], totals["flagged"], totals["mean_percent"]) == (
                3, sum(row["flagged"] for row in rows), dashboards.mean(
                    row["percent"] for row in rows))
            page = queries.gap_report(session, scope, "facility", start, page=2, per_page=2)
            assert page["rows"] == rows[2:] and page["total"] == 3
            assert page["totals"] == facilities["totals"]
            districts = queries.gap_report(session, scope, "district", start)["rows"]
            page = queries.gap_report(session, scope, "district", start, page=2, per_page=1)
            assert page["rows"] == districts[1:] and page["total"] == 2


def test_a_stored_visit_moves_the_generation_and_the_next_answer_shows_it(engines, region):
    """The dashboards' answer cache (`checklist.answer_cache`) is keyed on the read
    models' generation: a visit stored, deleted or moved, or an org unit renamed,
    bumps it in its own transaction, so the next request computes anew."""
    from checklist import answer_cache, queries
    r = region
    a1, b1 = f"{r}-A-1", f"{r}-B-1"
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    engine = engines["checklist"]
    cache = answer_cache.AnswerCache(size=4)
    scope = [f"/ML/{r}"]

    def report():
        with Session(engine) as session:
            return cache.get(session, ("gap_report", answer_cache.scope_key(scope)),
                             lambda: queries.gap_report(session, scope, "facility",
                                                        template_code="pev-mini"))

    def generation():
        with engine.connect() as conn:
            return read_models.generation(conn)

    with engine.begin() as conn:
        visit(conn, r, a1, at, 80.0)
    assert [row["facility_id"] for row in report()["rows"]] == [a1]
    assert report() is report() and cache.hits == 2  # unchanged: answered from the cache

    before = generation()
    with engine.begin() as conn:
        sid = visit(conn, r, b1, at, 30.0, [("cc_in_range", False)])
    assert generation() > before
    assert sorted(row["facility_id"] for row in report()["rows"]) == sorted([a1, b1])

    before = generation()
    with engine.begin() as conn:
        conn.execute(text("delete from submissions where id = :s"), {"s": sid})
    assert generation() > before
    assert [row["facility_id"] for row in report()["rows"]] == [a1]

    before = generation()
    with Session(engine) as session, session.begin():
        store.import_org_units(session, "csv",
                               f"id,parent_id,level,name\n{a1},{r}-A,facility,CSCom Un\n")
    assert generation() > before
    assert [row["facility_name"] for row in report()["rows"]] == ["CSCom Un"]

    # A transaction not yet committed moves nothing others can see.
    before = generation()
    with engine.connect() as conn:
        pending = conn.begin()
        visit(conn, r, b1, at, 55.0)
        assert generation() == before
        pending.rollback()
    assert [row["facility_id"] for row in report()["rows"]] == [a1]

    # Bumped once per transaction, at its commit: a visit of one district does not
    # wait for an uncommitted visit of another (they once queued on the one row
    # from insert to commit), and each commit still moves the generation.
    before = generation()
    with engine.connect() as first, engine.connect() as second:
        one = first.begin()
        visit(first, r, a1, at, 60.0, [("cc_in_range", False), ("stock_no_expired", False)])
        two = second.begin()
        second.execute(text("set local lock_timeout = '2s'"))  # waiting would fail here
        visit(second, r, b1, at, 65.0)
        two.commit()
        after_second = generation()
        assert after_second == before + 1  # one bump for the whole transaction
        one.commit()
    assert generation() == after_second + 1
