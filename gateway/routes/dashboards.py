"""Dashboards: the championship leaderboard of a cohort's teams over a period.

GET /api/v1/dashboards/leaderboard?cohort=&template_code=&since=&until=&page=&per_page=

Scores of one template only are compared (`template_code`, by default the
template with the most visits in the period): a 5-item demo checklist is never
set against the 49-item one. A team is a facility's staff. Each team of the cohort (the facilities of the
accounts whose `cohort` is the one asked, and those their coaches follow;
without `cohort`, every facility in the caller's scope) with a scored visit in
the period gets

    points = 0.5 × improvement + 0.3 × actions_done + 0.2 × latest

- improvement: latest score − first score of the period's visits, in percentage
  points (0 with a single visit); it can be negative;
- actions_done: percent of its improvement-plan actions done in the period
  (dropped ones not counted; 0 when it has none);
- latest: the score of its latest visit in the period (0–100).

Improvement weighs most (a championship rewards progress), action follow-up
next; the latest score keeps a team that is already good from being ranked
below one that is merely less bad. Equal points share a rank ("1, 2, 2, 4");
within it, larger improvement, then more actions done, then name, come first.
Teams with no scored visit in the period are listed apart (`unranked`).

`rank_teams` is plain logic (unit-tested); the route only gathers its inputs:
`checklist.facility_scores` and `planner.progress`, both scoped by the caller.
The rendered answer is kept per gateway replica (`gateway.answer_cache`), keyed on
the checklist read models' generation, the caller's scope, every parameter, the
cohort's facilities and a digest of the planner's progress rows (asked every
time: the generation does not cover actions).
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from nameko import config
from sqlalchemy import select

from c2p.api import dump, paginate_list
from c2p.api.dashboards import DEFAULT_PERIOD_DAYS, LeaderboardQuery, LeaderboardView
from c2p.errors import InvalidInput
from c2p.scope import in_scope
from gateway.answer_cache import AnswerCache
from gateway.dependencies import TimedRpc
from gateway.http import API, http, view_of
from gateway.openapi import route

WEIGHTS = {"improvement": 0.5, "actions_done": 0.3, "latest": 0.2}
FORMULA = "0.5 × improvement + 0.3 × actions_done + 0.2 × latest"
ANSWERS = AnswerCache()


def _number(value):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def rank_teams(scores, progress, scope=None, facility_ids=None):
    """(ranked, unranked) teams from the two services' rows.

    `scores`: rows of checklist.facility_scores; `progress`: rows of
    planner.progress by facility. `scope` (org-unit paths) and `facility_ids`
    (a cohort's facilities), when given, keep only the teams within them.
    """
    teams = {}
    for row in scores:
        teams.setdefault(row["facility_id"], {"facility_id": row["facility_id"]})["score"] = row
    for row in progress:
        teams.setdefault(row["key"], {"facility_id": row["key"]})["progress"] = row

    ranked, unranked = [], []
    for facility_id, team in teams.items():
        score, plan = team.get("score") or {}, team.get("progress") or {}
        path = score.get("facility_path") or plan.get("facility_path") or ""
        if facility_ids is not None and facility_id not in facility_ids:
            continue
        if scope is not None and not in_scope(path, scope):
            continue
        latest = _number(score.get("percent"))
        first = _number(score.get("first_percent"))
        visits = int(score.get("visits") or 0)
        actions_done = _number(plan.get("percent_done")) or 0.0
        entry = {
            "facility_id": facility_id,
            "facility_name": score.get("facility_name") or plan.get("label") or facility_id,
            "facility_path": path,
            "district_name": score.get("district_name"),
            "region_name": score.get("region_name"),
            "visits": visits,
            "first_percent": first,
            "latest_percent": latest,
            "latest_visited_at": score.get("latest_visited_at"),
            "colour": score.get("colour"),
            "flagged": score.get("flagged"),
            "actions_done": int(plan.get("done") or 0),
            "actions_total": int(plan.get("total") or 0),
            "actions_overdue": int(plan.get("overdue") or 0),
            "percent_done": round(actions_done, 1),
        }
        if latest is None or visits < 1:
            entry["reason"] = "no scored visit in the period"
            unranked.append(entry)
            continue
        improvement = (latest - first) if (first is not None and visits > 1) else 0.0
        points = (WEIGHTS["improvement"] * improvement + WEIGHTS["actions_done"] * actions_done
                  + WEIGHTS["latest"] * latest)
        entry.update(improvement=round(improvement, 1), points=round(points, 1))
        ranked.append(entry)

    ranked.sort(key=lambda e: (-e["points"], -e["improvement"], -e["percent_done"],
                               e["facility_name"], e["facility_id"]))
    for position, entry in enumerate(ranked, start=1):
        same_as_previous = position > 1 and ranked[position - 2]["points"] == entry["points"]
        entry["rank"] = ranked[position - 2]["rank"] if same_as_previous else position
    unranked.sort(key=lambda e: (e["facility_name"], e["facility_id"]))
    return ranked, unranked


def _period(query):
    """(since, until) of the leaderboard: `until` defaults to today, `since` to
    DEFAULT_PERIOD_DAYS before it."""
    errors = {name: ["must be a date between 2000 and 2999"] for name in ("since", "until")
              if query.get(name) and not 2000 <= query[name].year <= 2999}
    if errors:
        raise InvalidInput(errors)
    until = query.get("until") or date.today()
    since = query.get("since") or until - timedelta(days=DEFAULT_PERIOD_DAYS)
    if since > until:
        raise InvalidInput({"since": ["must not be after until"]})
    return since, until


class DashboardRoutes:
    checklist = TimedRpc("checklist")
    planner = TimedRpc("planner")

    @route(summary="Championship leaderboard of a cohort's teams over a period",
           description=__doc__, query=LeaderboardQuery, response=LeaderboardView,
           tags=["dashboards"])
    @http("GET", f"{API}/dashboards/leaderboard")
    def leaderboard(self, request):
        caller = self.auth.caller(request)
        q = request.query
        since, until = _period(q)
        cohort = (q.get("cohort") or "").strip() or None
        facility_ids = self._cohort_facilities(cohort) if cohort else None
        rpc_caller = caller.as_rpc()
        generation = self.checklist.dashboards_generation()
        progress = self.planner.progress(rpc_caller, by="facility", since=since.isoformat(),
                                         until=until.isoformat())
        key = None if generation is None else (
            "leaderboard", generation, tuple(sorted(caller.scope)), since, until,
            q.get("template_code"), cohort,
            None if facility_ids is None else tuple(sorted(facility_ids)),
            q["page"], q["per_page"],
            hashlib.sha256(json.dumps(progress, sort_keys=True, default=str).encode())
            .hexdigest())
        cached = ANSWERS.get(key) if key else None
        if cached is not None:
            return cached.answer(request)
        # One template's scores only: improvement compares like with like.
        scores = self.checklist.facility_scores(rpc_caller, since.isoformat(), until.isoformat(),
                                                template_code=q.get("template_code"))
        ranked, unranked = rank_teams(scores["items"], progress, scope=caller.scope,
                                      facility_ids=facility_ids)
        body = paginate_list(ranked, q["page"], q["per_page"], cohort=cohort,
                             template_code=scores["template_code"], since=since, until=until,
                             formula=FORMULA, unranked=unranked)
        if key is None:
            return body
        strict = bool(getattr(config.get("C2P_SETTINGS"), "strict_views", False))
        return ANSWERS.put(key, dump(view_of(LeaderboardView), body, strict=strict)).answer(
            request)

    def _cohort_facilities(self, cohort) -> set:
        """The cohort's teams: the facility of each of its accounts (coachees) and the
        facilities its coaches follow. A cohort is a property of accounts."""
        from gateway.models import Account
        if not hasattr(Account, "cohort"):
            raise InvalidInput({"cohort": ["accounts have no cohorts on this server yet"]})
        columns = [Account.facility_id]
        if hasattr(Account, "coaching"):
            columns.append(Account.coaching)
        facilities = set()
        for row in self.db.session.execute(select(*columns).where(Account.cohort == cohort)):
            if row[0]:
                facilities.add(row[0])
            for followed in (row[1] if len(row) > 1 else None) or ():
                if isinstance(followed, dict) and followed.get("facility_id"):
                    facilities.add(followed["facility_id"])
        return facilities
