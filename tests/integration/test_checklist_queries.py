"""Queries on the real database: lists, history, the dashboards' scores and gaps,
checked on hand-made visits, then at national scale (2,000 facilities x 12
monthly visits) where each must be served by an index."""
import time
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from c2p.errors import InvalidInput, NotFound
from checklist import queries, store

UTC = timezone.utc


@pytest.fixture
def area(engines):
    """A test region with two districts of two facilities; removed afterwards."""
    tag = uuid.uuid4().hex[:6].upper()
    r = f"ML-Q{tag}"
    csv_text = ("id,parent_id,level,name\n"
                f"{r},ML,region,Région {tag}\n"
                f"{r}-A,{r},district,Diéma\n{r}-B,{r},district,Nioro\n"
                f"{r}-A-1,{r}-A,facility,CSCom de Béma\n{r}-A-2,{r}-A,facility,CSCom de Fatao\n"
                f"{r}-B-1,{r}-B,facility,CSCom de Simbi\n{r}-B-2,{r}-B,facility,CSCom de Troungoumbé\n")
    with Session(engines["checklist"]) as session, session.begin():
        assert store.import_org_units(session, "csv", csv_text)["created"] == 7
    yield r
    with engines["checklist"].begin() as conn:
        like = {"p": f"/ML/{r}%"}
        conn.execute(text("delete from submission_gaps where facility_path like :p"), like)
        conn.execute(text("delete from submissions where facility_path like :p"), like)
        for level in ("facility", "district", "region"):
            conn.execute(text("delete from org_units where path like :p and level = :l"),
                         {**like, "l": level})


def visit(conn, facility, path, when, percent, colour, flagged=False, gaps=(), coach="c1",
          template_code="pev-mini"):
    template_id = conn.execute(text("select id from template_versions where code = :c "
                                    "order by version desc limit 1"),
                               {"c": template_code}).scalar()
    sid = uuid.uuid4()
    conn.execute(text(
        "insert into submissions (id, facility_id, facility_path, coach_id, template_id, "
        "visited_at, coachees, answers, score, gaps, percent, colour, flagged) values "
        "(:id, :f, :p, :coach, :t, :at, '[]', '{}', cast(:score as jsonb), "
        "cast(:gaps as jsonb), :pc, :col, :fl)"),
        {"id": sid, "f": facility, "p": path, "coach": coach, "t": template_id, "at": when,
         "score": '{"sections": [{"code": "cold_chain", "percent": %s}]}' % percent,
         "gaps": "[" + ",".join('{"item_code": "%s"}' % g for g in gaps) + "]",
         "pc": percent, "col": colour, "fl": flagged})
    for code in gaps:
        conn.execute(text(
            "insert into submission_gaps values (:s, :i, 'cold_chain', :t, :p, :at, :c, false)"),
            {"s": sid, "i": code, "t": template_id, "p": path, "at": when,
             "c": code == "cc_in_range"})
    return str(sid)


def day(month, d=1):
    return datetime(2026, month, d, 9, tzinfo=UTC)


def test_lists_history_scores_and_gaps_on_hand_made_visits(engines, area):
    r = area
    p = {f: f"/ML/{r}/{f.rsplit('-', 1)[0]}/{f}" for f in
         (f"{r}-A-1", f"{r}-A-2", f"{r}-B-1", f"{r}-B-2")}
    a1, a2, b1 = f"{r}-A-1", f"{r}-A-2", f"{r}-B-1"
    with engines["checklist"].begin() as conn:
        first = visit(conn, a1, p[a1], day(1), 40.0, "red", gaps=("cc_in_range", "dq_monitoring_chart"))
        visit(conn, a1, p[a1], day(2), 70.0, "amber", gaps=("dq_monitoring_chart",), coach="c2")
        last = visit(conn, a1, p[a1], day(3), 90.0, "green", flagged=True, gaps=("cc_in_range",))
        visit(conn, a2, p[a2], day(2), 60.0, "amber", gaps=("dq_monitoring_chart",))
        visit(conn, b1, p[b1], day(3), 100.0, "green")
    national, district_a = ["/ML"], [f"/ML/{r}/{r}-A"]
    with Session(engines["checklist"]) as session:
        listed = queries.list_submissions(session, [f"/ML/{r}"], per_page=2)
        assert listed["total"] == 5 and len(listed["items"]) == 2
        assert listed["items"][0]["visited_at"] >= listed["items"][1]["visited_at"]
        page3 = queries.list_submissions(session, [f"/ML/{r}"], per_page=2, page=3)
        assert len(page3["items"]) == 1
        by_district = queries.list_submissions(session, national, district_id=f"{r}-A")
        assert by_district["total"] == 4
        assert {i["facility_name"] for i in by_district["items"]} == {"CSCom de Béma",
                                                                     "CSCom de Fatao"}
        assert queries.list_submissions(session, national, facility_id=a1,
                                        coach_id="c2")["total"] == 1
        in_feb = queries.list_submissions(session, national, region_id=r,
                                          start=day(2), end=day(3))
        assert in_feb["total"] == 2
        with pytest.raises(NotFound):  # district B is outside district A's scope
            queries.list_submissions(session, district_a, district_id=f"{r}-B")

        history = queries.facility_history(session, district_a, a1)
        assert [v["percent"] for v in history["visits"]] == [40.0, 70.0, 90.0]
        assert history["visits"][0]["submission_id"] == first
        assert history["change"] == 50.0
        with pytest.raises(NotFound):
            queries.facility_history(session, district_a, b1)

        scores = {row["facility_id"]: row for row in queries.facility_scores(
            session, [f"/ML/{r}"], day(2), None)}
        assert set(scores) == {a1, a2, b1}
        assert scores[a1]["latest_submission_id"] == last
        assert (scores[a1]["percent"], scores[a1]["first_percent"], scores[a1]["visits"]) == (
            90.0, 70.0, 2)
        assert scores[a1]["flagged"] is True and scores[a1]["colour"] == "green"
        assert scores[a1]["district_name"] == "Diéma" and scores[a1]["region_id"] == r
        assert scores[a1]["latest_visited_at"] == day(3).isoformat()
        assert [row["facility_id"] for row in queries.facility_scores(
            session, district_a)] == [a1, a2]

        report = queries.gap_report(session, [f"/ML/{r}"], "district")
        rows = {row["district_id"]: row for row in report["rows"]}
        assert rows[f"{r}-A"]["mean_percent"] == 75.0  # latest 90 and 60
        assert rows[f"{r}-A"]["colours"] == {"green": 1, "amber": 1, "red": 0, "grey": 0}
        assert rows[f"{r}-B"]["mean_percent"] == 100.0
        top = report["top_gaps"]
        assert [(g["item_code"], g["failures"], g["visits"]) for g in top] == [
            ("dq_monitoring_chart", 3, 5), ("cc_in_range", 2, 5)]
        assert top[1]["critical"] is True and top[1]["label_fr"].startswith("Toutes les lectures")
        assert report["totals"]["facilities"] == 3 and report["totals"]["visits"] == 5
        region_row = queries.gap_report(session, [f"/ML/{r}"], "region")["rows"]
        assert region_row[0]["facilities"] == 3

        # The desk map's filters: one template, one district; coordinates come along.
        in_a = queries.gap_report(session, national, "facility", area_id=f"{r}-A",
                                  template_code="pev-mini")
        assert {row["facility_id"] for row in in_a["rows"]} == {a1, a2}
        assert in_a["rows"][0]["template_code"] == "pev-mini"
        assert "latitude" in in_a["rows"][0] and "longitude" in in_a["rows"][0]
        assert [(g["item_code"], g["failures"]) for g in in_a["top_gaps"]] == [
            ("dq_monitoring_chart", 3), ("cc_in_range", 2)]
        assert in_a["totals"]["visits"] == 4
        other = queries.gap_report(session, national, "facility", template_code="pev-integrated")
        assert not any(row["facility_id"] in (a1, a2, b1) for row in other["rows"])
        with pytest.raises(InvalidInput):
            queries.gap_report(session, national, template_code="no-such-template")
        with pytest.raises(NotFound):  # district B is outside district A's scope
            queries.gap_report(session, district_a, area_id=f"{r}-B")
        with pytest.raises(NotFound):  # a facility is not an area
            queries.gap_report(session, national, area_id=a1)


def test_scores_are_compared_within_one_template_never_across(engines, area):
    """A 5-item demo visit is not set against a 49-item one: dashboards, the
    leaderboard's first/latest scores and a facility's history keep to one template
    (by default the one with the most visits; the facility's latest for history)."""
    r = area
    a1, a2 = f"{r}-A-1", f"{r}-A-2"
    p = {f: f"/ML/{r}/{r}-A/{f}" for f in (a1, a2)}
    with engines["checklist"].begin() as conn:
        visit(conn, a1, p[a1], day(1), 97.2, "green", template_code="pev-integrated",
              gaps=("cc_in_range",))
        visit(conn, a1, p[a1], day(2), 40.0, "red", gaps=("dq_monitoring_chart",))
        visit(conn, a1, p[a1], day(3), 60.0, "amber")
        visit(conn, a2, p[a2], day(2), 80.0, "green")
    scope = [f"/ML/{r}"]
    with Session(engines["checklist"]) as session:
        assert queries.main_template(session, scope) == "pev-mini"
        scores = {row["facility_id"]: row for row in queries.facility_scores(session, scope)}
        assert (scores[a1]["first_percent"], scores[a1]["percent"], scores[a1]["visits"]) == (
            40.0, 60.0, 2)  # not 97.2 -> 60.0 across templates
        integrated = queries.facility_scores(session, scope, template_code="pev-integrated")
        assert [(row["facility_id"], row["percent"], row["visits"]) for row in integrated] == [
            (a1, 97.2, 1)]
        report = queries.gap_report(session, scope, "facility")
        assert report["template_code"] == "pev-mini" and report["totals"]["visits"] == 3
        assert [g["item_code"] for g in report["top_gaps"]] == ["dq_monitoring_chart"]
        other = queries.gap_report(session, scope, "facility", template_code="pev-integrated")
        assert other["totals"]["visits"] == 1
        assert [g["item_code"] for g in other["top_gaps"]] == ["cc_in_range"]
        history = queries.facility_history(session, scope, a1)
        assert history["template_code"] == "pev-mini"
        assert [v["percent"] for v in history["visits"]] == [40.0, 60.0]
        assert history["change"] == 20.0
        assert queries.facility_history(session, scope, a1, template_code="pev-integrated")[
            "change"] is None


def test_all_templates_counts_every_templates_visits(engines, area):
    """The desk map's "all checklists": every template's visits are counted (not
    only those of the template with the most visits), each facility shows its
    latest visit whatever its template, and the items failed most cover both."""
    r = area
    a1, a2, a3 = f"{r}-A-1", f"{r}-A-2", f"{r}-B-1"
    p = {f: f"/ML/{r}/{f[:-2]}/{f}" for f in (a1, a2, a3)}
    with engines["checklist"].begin() as conn:
        visit(conn, a1, p[a1], day(1), 40.0, "red", gaps=("dq_monitoring_chart",))
        visit(conn, a1, p[a1], day(3), 97.2, "green", template_code="pev-integrated",
              gaps=("cc_in_range",))
        visit(conn, a2, p[a2], day(2), 80.0, "green")
        visit(conn, a2, p[a2], day(4), 60.0, "amber")
        visit(conn, a3, p[a3], day(2), 30.0, "red", template_code="pev-integrated",
              flagged=True)
    scope = [f"/ML/{r}"]
    with Session(engines["checklist"]) as session:
        main = queries.gap_report(session, scope, "facility", per_page=100)
        assert main["template_code"] == "pev-mini" and main["totals"]["visits"] == 3
        for per_page in (None, 100):
            report = queries.gap_report(session, scope, "facility", per_page=per_page,
                                        all_templates=True)
            assert report["template_code"] is None
            assert report["totals"]["visits"] == 5
            assert report["totals"]["facilities"] == 3 and report["totals"]["flagged"] == 1
            rows = {row["facility_id"]: row for row in report["rows"]}
            assert {f: (row["percent"], row["template_code"], row["visits"])
                    for f, row in rows.items()} == {
                a1: (97.2, "pev-integrated", 2), a2: (60.0, "pev-mini", 2),
                a3: (30.0, "pev-integrated", 1)}
            assert report["totals"]["colours"]["red"] == 1
            assert sorted(g["item_code"] for g in report["top_gaps"]) == [
                "cc_in_range", "dq_monitoring_chart"]
        district = queries.gap_report(session, scope, "district", all_templates=True)
        assert district["totals"]["facilities"] == 3
        assert sorted(row["visits"] for row in district["rows"]) == [1, 4]
        with pytest.raises(InvalidInput):
            queries.gap_report(session, scope, template_code="pev-mini", all_templates=True)


def capture_statements(engine):
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listener)


@pytest.mark.slow
def test_national_scale_queries_use_indexes(engines):
    engine = engines["checklist"]
    tag = uuid.uuid4().hex[:4].upper()
    r = f"ML-N{tag}"
    with engine.begin() as conn:
        conn.execute(text("insert into org_units (id, name, level, parent_id, path) values "
                          "(:r, 'Région nationale', 'region', 'ML', '/ML/' || :r)"), {"r": r})
        conn.execute(text(
            "insert into org_units (id, name, level, parent_id, path) "
            "select :r || '-D' || d, 'District ' || d, 'district', :r, '/ML/' || :r || '/' || :r || '-D' || d "
            "from generate_series(1, 40) d"), {"r": r})
        conn.execute(text(
            "insert into org_units (id, name, level, parent_id, path) "
            "select :r || '-D' || d || '-F' || f, 'CSCom ' || d || '-' || f, 'facility', "
            ":r || '-D' || d, '/ML/' || :r || '/' || :r || '-D' || d || '/' || :r || '-D' || d || '-F' || f "
            "from generate_series(1, 40) d, generate_series(1, 50) f"), {"r": r})
        template_id = conn.execute(text("select min(id) from template_versions")).scalar()
        conn.execute(text(
            "insert into submissions (id, facility_id, facility_path, coach_id, template_id, "
            "visited_at, coachees, answers, score, gaps, percent, colour, flagged) "
            "select gen_random_uuid(), u.id, u.path, 'coach-' || u.parent_id, :t, "
            "timestamptz '2025-01-05 09:00+00' + (m || ' months')::interval + (random() * interval '20 days'), "
            "'[]', '{}', '{\"sections\": []}', '[]', p, "
            "case when p >= 80 then 'green' when p >= 50 then 'amber' else 'red' end, p < 55 "
            "from org_units u, generate_series(0, 11) m, "
            "lateral (select round((30 + random() * 70)::numeric, 1)::float as p "
            "where u.id is not null) s "
            "where u.level = 'facility' and u.parent_id like :r || '-D%'"),
            {"t": template_id, "r": r})
        conn.execute(text(
            "insert into submission_gaps select s.id, 'item_' || g, 'sec', s.template_id, "
            "s.facility_path, s.visited_at, g = 1, g > 4 from submissions s, "
            "generate_series(1, 6) g where s.facility_path like '/ML/' || :r || '/%' "
            "and random() < 0.7"), {"r": r})
        conn.execute(text("analyze org_units; analyze submissions; analyze submission_gaps"))
    try:
        district = [f"/ML/{r}/{r}-D7"]
        timings, plans = {}, {}
        seen, stop = capture_statements(engine)
        with Session(engine) as session:
            for name, call in [
                ("facility_scores national", lambda: queries.facility_scores(session, ["/ML"])),
                ("facility_scores district", lambda: queries.facility_scores(session, district)),
                ("gap_report national", lambda: queries.gap_report(session, ["/ML"], "region")),
                ("gap_report district 2025-06..08", lambda: queries.gap_report(
                    session, district, "facility", datetime(2025, 6, 1, tzinfo=UTC),
                    datetime(2025, 9, 1, tzinfo=UTC))),
                ("list national page 1", lambda: queries.list_submissions(session, ["/ML"])),
                ("list district page 3", lambda: queries.list_submissions(
                    session, district, page=3)),
                ("history", lambda: queries.facility_history(session, ["/ML"], f"{r}-D7-F3")),
            ]:
                del seen[:]
                started = time.perf_counter()
                result = call()
                timings[name] = round((time.perf_counter() - started) * 1000, 1)
                plans[name] = list(seen)
            assert len(queries.facility_scores(session, district)) == 50
            national = queries.facility_scores(session, ["/ML"])
            assert sum(1 for row in national if row["region_id"] == r) == 2000
            assert all(row["visits"] == 12 for row in national if row["region_id"] == r)
        stop()
        print("\nnational scale (2,000 facilities x 12 visits), ms:", timings)
        with engine.connect() as conn:
            def explain(name):
                text_plan = []
                for statement, parameters in plans[name]:
                    cursor = conn.connection.cursor()
                    cursor.execute("explain " + statement, parameters)
                    text_plan += [row[0] for row in cursor.fetchall()]
                return "\n".join(text_plan)
            for name in ("facility_scores district", "gap_report district 2025-06..08",
                         "list district page 3"):
                plan = explain(name)
                assert "Index" in plan and "Seq Scan on submissions" not in plan, (name, plan)
            assert "Seq Scan on submission_gaps" not in explain("gap_report district 2025-06..08")
            assert "Index" in explain("history")
    finally:
        with engine.begin() as conn:
            like = {"p": f"/ML/{r}/%"}
            conn.execute(text("delete from submission_gaps where facility_path like :p"), like)
            conn.execute(text("delete from submissions where facility_path like :p"), like)
            conn.execute(text("delete from org_units where path like :p and level = 'facility'"), like)
            conn.execute(text("delete from org_units where path like :p"), like)
            conn.execute(text("delete from org_units where id = :r"), {"r": r})
