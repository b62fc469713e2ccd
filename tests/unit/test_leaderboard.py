"""The championship leaderboard's formula, ties, scope and cohort filters."""
from gateway.routes.dashboards import rank_teams

NIONO = "/ML/ML-SEG/ML-SEG-NIO"


def score(fid, first, latest, visits=2, path=None, name=None):
    return {"facility_id": fid, "facility_name": name or fid,
            "facility_path": path or f"{NIONO}/{fid}", "district_name": "Niono",
            "region_name": "Ségou", "percent": latest, "first_percent": first,
            "visits": visits, "colour": "amber", "flagged": False,
            "latest_visited_at": "2026-11-20T09:30:00+00:00"}


def progress(fid, done, total, percent_done, path=None):
    return {"key": fid, "label": fid, "facility_path": path or f"{NIONO}/{fid}",
            "done": done, "open": total - done, "overdue": 0, "dropped": 0, "total": total,
            "percent_done": percent_done, "median_days_to_close": 4}


def test_points_follow_the_documented_formula():
    ranked, unranked = rank_teams([score("A", 40.0, 80.0)], [progress("A", 3, 4, 75.0)])
    (team,) = ranked
    assert team["improvement"] == 40.0
    assert team["points"] == round(0.5 * 40 + 0.3 * 75 + 0.2 * 80, 1) == 58.5
    assert team["rank"] == 1 and unranked == []


def test_progress_beats_a_high_but_flat_score():
    ranked, _ = rank_teams(
        [score("steady", 90.0, 90.0), score("climber", 45.0, 85.0)],
        [progress("steady", 1, 4, 25.0), progress("climber", 4, 4, 100.0)])
    assert [t["facility_id"] for t in ranked] == ["climber", "steady"]


def test_single_visit_counts_no_improvement_and_no_actions_counts_zero():
    ranked, _ = rank_teams([score("one", None, 70.0, visits=1)], [])
    assert ranked[0]["improvement"] == 0.0
    assert ranked[0]["percent_done"] == 0.0
    assert ranked[0]["points"] == 14.0


def test_equal_points_share_a_rank_and_the_next_rank_skips():
    ranked, _ = rank_teams(
        [score("a", 50.0, 60.0, name="Bla"), score("b", 50.0, 60.0, name="Alo"),
         score("c", 50.0, 50.0), score("d", 80.0, 90.0)],
        [])
    assert [(t["facility_name"], t["rank"]) for t in ranked] == [
        ("d", 1), ("Alo", 2), ("Bla", 2), ("c", 4)]


def test_worsening_gives_negative_improvement():
    ranked, _ = rank_teams([score("down", 80.0, 60.0)], [])
    assert ranked[0]["improvement"] == -20.0


def test_teams_without_a_scored_visit_are_listed_apart():
    ranked, unranked = rank_teams([score("na", None, None, visits=1)],
                                  [progress("plan-only", 2, 5, 40.0)])
    assert ranked == []
    assert {t["facility_id"] for t in unranked} == {"na", "plan-only"}
    assert all(t["reason"] for t in unranked)


def test_scope_and_cohort_keep_only_their_teams():
    kayes = "/ML/ML-KAY/ML-KAY-KAY/KAY-1"
    scores = [score("N1", 40.0, 60.0), score("N2", 40.0, 50.0),
              score("KAY-1", 10.0, 90.0, path=kayes)]
    plans = [progress("KAY-1", 5, 5, 100.0, path=kayes)]
    ranked, unranked = rank_teams(scores, plans, scope=[NIONO])
    assert [t["facility_id"] for t in ranked] == ["N1", "N2"]
    assert unranked == []
    ranked, _ = rank_teams(scores, plans, scope=["/ML"], facility_ids={"N2", "KAY-1"})
    assert [t["facility_id"] for t in ranked] == ["KAY-1", "N2"]
