"""Visits and gaps counted over a period, from the monthly read models.

`monthly_visits` and `monthly_gaps` (`checklist.read_models`) count a district's
visits and failed items per template version and month. A period's counts add up
the months it covers whole, and, at its two edges, each month whose visits all lie
inside it (`first_visited_at`/`last_visited_at` say so: a period ending today takes
the current month from the model). A month the period cuts through its visits is
counted from the raw rows of that month only (`submissions`, `submission_gaps`).

A scope finer than a district (a facility's) cannot be read from district rows: it
is counted from the raw rows, which are few.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import Integer, and_, false, func, or_, select, true

from c2p.scope import in_scope_clause, under_clause
from checklist.models import MonthlyGaps, MonthlyVisits, Submission, SubmissionGap

DISTRICT_DEPTH = 3  # /country/region/district


@dataclass(frozen=True)
class Filter:
    """What is counted: the caller's scope, a period [start, end), optionally some
    template versions (ids) and one region or district (its path)."""
    scope: list
    start: datetime | None = None
    end: datetime | None = None
    template_ids: tuple | None = None
    area_path: str | None = None

    def raw(self, table, start, end):
        clauses = [in_scope_clause(table.facility_path, self.scope)]
        if start is not None:
            clauses.append(table.visited_at >= start)
        if end is not None:
            clauses.append(table.visited_at < end)
        return and_(*clauses, *self._common(table, table.facility_path))

    def model(self, table, months):
        return and_(in_scope_clause(table.district_path, self.scope), months,
                    *self._common(table, table.district_path))

    def _common(self, table, path):
        clauses = []
        if self.template_ids is not None:
            clauses.append(table.template_id.in_(self.template_ids) if self.template_ids
                           else false())
        if self.area_path:
            clauses.append(under_clause(path, self.area_path))
        return clauses


def _month(moment: datetime) -> date:
    moment = moment.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _instant(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=timezone.utc)


def coarse(scope) -> bool:
    """Every root of the scope is a district or wider (the models' grain)."""
    roots = [r for r in scope or () if isinstance(r, str) and r.strip()]
    return all(r.rstrip("/").count("/") <= DISTRICT_DEPTH for r in roots)


@dataclass(frozen=True)
class Months:
    """Which months a period reads from the models: [low, high) but `cut`."""
    low: date | None = None
    high: date | None = None
    cut: tuple = ()
    none: bool = False

    def clause(self, table):
        if self.none:
            return false()
        clauses = [table.month >= self.low] if self.low is not None else []
        if self.high is not None:
            clauses.append(table.month < self.high)
        if self.cut:
            clauses.append(table.month.not_in(self.cut))
        return and_(*clauses) if clauses else true()


def split(session, where: Filter):
    """(the `Months` read from the models, [(start, end) read from raw rows])."""
    start, end = where.start, where.end
    if not coarse(where.scope):
        return Months(none=True), [(start, end)]
    m = MonthlyVisits.__table__.c
    low = _month(start) if start is not None else None
    high = _month(end) if end is not None else None  # first month not (wholly) in
    edges = set()
    if start is not None and _instant(low) != start:
        edges.add(low)
    if end is not None and _instant(high) != end:
        edges.add(high)
        high = _next(high)
    cut = ()
    if edges:
        outside = []
        if start is not None:
            outside.append(m.first_visited_at < start)
        if end is not None:
            outside.append(m.last_visited_at >= end)
        cut = tuple(sorted(session.connection().scalars(select(m.month).distinct().where(
            where.model(m, m.month.in_(sorted(edges))), or_(*outside)))))
    raw = [(max(start, _instant(month)) if start is not None else _instant(month),
            min(end, _instant(_next(month))) if end is not None else _instant(_next(month)))
           for month in cut]
    return Months(low, high, cut), raw


def visits_by_template(session, where: Filter) -> dict:
    """{template id: visits} in the scope and period."""
    months, raw = split(session, where)
    m, s = MonthlyVisits.__table__.c, Submission.__table__.c
    counts: dict = {}
    connection = session.connection()
    rows = list(connection.execute(select(m.template_id, func.sum(m.visits))
                                   .where(where.model(m, months.clause(m)))
                                   .group_by(m.template_id)))
    for start, end in raw:
        rows += connection.execute(select(s.template_id, func.count())
                                   .where(where.raw(s, start, end)).group_by(s.template_id))
    for template_id, visits in rows:
        counts[template_id] = counts.get(template_id, 0) + int(visits)
    return counts


def gap_counts(session, where: Filter, limit: int) -> list[dict]:
    """The items failed most in the scope and period:
    [{"item_code", "failures", "partial"}], most failures first."""
    months, raw = split(session, where)
    g, s = MonthlyGaps.__table__.c, SubmissionGap.__table__.c
    parts = [select(g.item_code.label("item_code"), g.failures.label("failures"),
                    g.partial.label("partial"))
             .where(where.model(g, months.clause(g)))]
    parts += [select(s.item_code, func.count(), func.sum(func.cast(s.partial, Integer)))
              .where(where.raw(s, start, end)).group_by(s.item_code) for start, end in raw]
    both = parts[0].union_all(*parts[1:]).subquery() if len(parts) > 1 else parts[0].subquery()
    failures = func.sum(both.c.failures)
    return [{"item_code": code, "failures": int(total), "partial": int(partial or 0)}
            for code, total, partial in session.connection().execute(
                select(both.c.item_code, failures, func.sum(both.c.partial))
                .group_by(both.c.item_code).order_by(failures.desc(), both.c.item_code)
                .limit(limit))]
