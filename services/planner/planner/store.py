"""Reading and writing the planner tables. Functions take a SQLAlchemy session and
never commit: the caller's unit of work does.

Changes that touch a plan's status lock the plans concerned (SELECT ... FOR NO KEY
UPDATE, in id order, then the action) so that two workers closing the last two
actions of a plan at once still complete it, exactly once. NO KEY: the foreign-key
checks of rows written meanwhile (history, entries) take KEY SHARE locks on plans,
which FOR UPDATE would block, deadlocking with the due-date sweep.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import String, bindparam, case, cast, func, insert, null, or_, select, text
from sqlalchemy.orm import aliased, selectinload

from c2p.ids import parse_uuid
from c2p.scope import in_scope_clause
from planner.domain import CLOSED, OPEN
from planner.models import Action, ActionComment, HistoryEntry, ImprovementPlan, PlanEntry


# --- plans -----------------------------------------------------------------------

def plan(session, plan_id, lock=False) -> ImprovementPlan | None:
    key = parse_uuid(plan_id)
    if key is None:
        return None
    query = select(ImprovementPlan).where(ImprovementPlan.id == key)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return session.scalars(query).first()


def plan_for_submission(session, submission_id) -> ImprovementPlan | None:
    key = parse_uuid(submission_id)
    if key is None:
        return None
    return session.scalars(select(ImprovementPlan).where(
        ImprovementPlan.submission_id == key)).first()


# The reads of every visit's plan, built once on the tables' columns (their values
# go as parameters): building them per visit cost more CPU than running them.
_P, _A = ImprovementPlan.__table__.c, Action.__table__.c
# The open actions of earlier visits to a facility on some items (joined with their
# plan): what a visit may verify (`CANDIDATES`) or carry over
# (`planner.visit_plans.STILL_OPEN`).
EARLIER_OPEN_ON_ITEMS = (
    _P.facility_id == bindparam("facility_id"), _P.id != bindparam("plan_id"),
    or_(_P.visited_at.is_(None), _P.visited_at <= bindparam("visited_at")),
    _A.item_code.in_(bindparam("item_codes", expanding=True)), _A.status.in_(OPEN))
CANDIDATES = (
    select(_A.id).join(ImprovementPlan.__table__, _P.id == _A.plan_id)
    .where(*EARLIER_OPEN_ON_ITEMS).order_by(_A.id))
INSERT_HISTORY = insert(HistoryEntry.__table__)


def list_plans(session, scope, facility_id=None, status=None, page=1, per_page=20):
    """(total, plans of the page), newest first."""
    query = select(ImprovementPlan).where(in_scope_clause(ImprovementPlan.facility_path, scope))
    if facility_id:
        query = query.where(ImprovementPlan.facility_id == facility_id)
    if status:
        query = query.where(ImprovementPlan.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    plans = session.scalars(
        query.options(selectinload(ImprovementPlan.entries))
        .order_by(ImprovementPlan.created_at.desc(), ImprovementPlan.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    return total, plans


def history(session, plan: ImprovementPlan) -> list[HistoryEntry]:
    """Every change to the plan or to any of its actions, oldest first."""
    action_ids = [e.action_id for e in plan.entries]
    return session.scalars(
        select(HistoryEntry).where(or_(HistoryEntry.plan_id == plan.id,
                                       HistoryEntry.action_id.in_(action_ids)))
        .order_by(HistoryEntry.at, HistoryEntry.id)).all()


def record(session, plan_id, action_id, actor, change, details, at) -> None:
    """Add a history entry (who changed what and when)."""
    session.add(HistoryEntry(plan_id=plan_id, action_id=action_id, actor_id=actor or "system",
                             change=change, details=details, at=at))


# --- actions -----------------------------------------------------------------------

def action_in_plan(session, plan: ImprovementPlan, action_id, lock=False) -> Action | None:
    key = parse_uuid(action_id)
    if key is None:
        return None
    query = (select(Action).join(PlanEntry, PlanEntry.action_id == Action.id)
             .where(PlanEntry.plan_id == plan.id, Action.id == key))
    if lock:
        query = (query.with_for_update(of=Action, key_share=True)
                 .execution_options(populate_existing=True))
    return session.scalars(query).first()


def lock_action(session, action_id):
    """(action, every plan it is in), locked (plans first, in id order); None if unknown."""
    key = parse_uuid(action_id)
    if key is None:
        return None

    def plans_of_action():
        return session.scalars(
            select(ImprovementPlan)
            .join(PlanEntry, PlanEntry.plan_id == ImprovementPlan.id)
            .where(PlanEntry.action_id == key)
            .order_by(ImprovementPlan.id).with_for_update(of=ImprovementPlan, key_share=True)
            .execution_options(populate_existing=True)).all()
    plans_of_action()
    action = session.scalars(
        select(Action).where(Action.id == key).with_for_update(key_share=True)
        .execution_options(populate_existing=True)).first()
    if action is None:
        return None
    # Again: a visit may have carried the action into a new plan while we waited.
    plans = plans_of_action()
    for plan in plans:  # re-read the entries: other actions may have moved meanwhile
        session.refresh(plan, ["entries"])
    return action, plans


def candidates_for(session, plan, item_codes) -> list:
    """Ids of the still-open actions of earlier visits to this facility on these
    items (not locked: `planner.follow_up.lock` takes them in the one safe order)."""
    if not item_codes:
        return []
    return session.scalars(CANDIDATES, {
        "facility_id": plan.facility_id, "plan_id": plan.id, "visited_at": plan.visited_at,
        "item_codes": list(item_codes)}).all()


def add_to_plan(session, plan: ImprovementPlan, action: Action, position: int,
                carried_over: bool = False) -> None:
    """Link an action to a plan at a position (a new action is stored first)."""
    if action not in session:
        session.add(action)
        session.flush()
    session.add(PlanEntry(plan_id=plan.id, action_id=action.id, position=position,
                          carried_over=carried_over))


def claim_due_actions(session, today: date, window_days: int, limit: int):
    """Open actions that need a due-soon or overdue alert, with their plan, claimed
    FOR UPDATE SKIP LOCKED so that replicas sweeping at once never both take one.

    Not an action nobody may start yet (still to do, in a plan waiting for its
    agreement, and not carried over from an earlier one): running late is nobody's
    fault then, and alerting on it only buries the alerts people can act on. Once
    its plan is agreed, the next sweep alerts on it as due."""
    return session.execute(
        select(Action, ImprovementPlan)
        .join(ImprovementPlan, ImprovementPlan.id == Action.plan_id)
        .where(Action.status.in_(OPEN),
               or_(ImprovementPlan.agreed_at.is_not(None), Action.status != "todo",
                   Action.recurring),
               or_(Action.due_date < today,
                   (Action.alert_state == "none")
                   & (Action.due_date <= today + timedelta(days=window_days))),
               Action.alert_state != "overdue")
        .order_by(Action.due_date)
        .limit(limit)
        .with_for_update(of=Action, skip_locked=True, key_share=True)).all()


# --- my actions and comments ------------------------------------------------------

def my_actions(session, caller: dict, filters: dict, today: date):
    """(total, [(action, its latest plan, comment count)]) of the caller's actions:
    those they own, and for a coach those of the plans they lead; in scope; overdue
    first, then by due date."""
    mine = Action.owner_id == caller["id"]
    if caller.get("role") == "coach":
        mine = or_(mine, ImprovementPlan.coach_id == caller["id"])
    where = [mine, in_scope_clause(ImprovementPlan.facility_path, caller["scope"])]
    status = filters.get("status") or "open"
    if status == "open":
        where.append(Action.status.in_(OPEN))
    elif status == "closed":
        where.append(Action.status.in_(CLOSED))
    elif status != "all":
        where.append(Action.status == status)
    overdue = Action.status.in_(OPEN) & (Action.due_date < today)
    if filters.get("overdue") is True:
        where.append(overdue)
    elif filters.get("overdue") is False:
        where.append(~overdue)
    if filters.get("due_before"):
        where.append(Action.due_date <= filters["due_before"])
    if filters.get("due_after"):
        where.append(Action.due_date >= filters["due_after"])
    if filters.get("facility_id"):
        where.append(ImprovementPlan.facility_id == filters["facility_id"])
    base = (select(Action, ImprovementPlan)
            .join(ImprovementPlan, ImprovementPlan.id == Action.plan_id).where(*where))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    page, per_page = filters["page"], filters["per_page"]
    rows = session.execute(
        base.order_by(case((overdue, 0), else_=1), Action.due_date, Action.created_at,
                      Action.position, Action.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    counts = comment_counts(session, [action.id for action, _ in rows])
    return total, [(action, plan, counts.get(action.id, 0)) for action, plan in rows]


def comment_counts(session, action_ids) -> dict:
    if not action_ids:
        return {}
    return dict(session.execute(
        select(ActionComment.action_id, func.count())
        .where(ActionComment.action_id.in_(action_ids))
        .group_by(ActionComment.action_id)).all())


def comments(session, action_id, page=1, per_page=50):
    """(total, comments of the page), oldest first."""
    query = select(ActionComment).where(ActionComment.action_id == action_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(ActionComment.created_at, ActionComment.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return total, rows


# --- progress ------------------------------------------------------------------------

# The plan an action was first set in (a carried-over action has since moved on).
OriginPlan = aliased(ImprovementPlan, name="origin_plan")


def opened_at():
    """When an action was set, as SQL (the other end of its days to close, whose
    `closed_at` is in the same time as the visits): an action from a visit's gap
    was set at that visit (its origin plan's `visited_at`), not when the planner
    happened to handle the visit (`created_at`: a phone that syncs days later, a
    visit entered afterwards, the demo's visits of past months all handled today;
    a follow-up visit closes such an action at its own `visited_at`, so measured
    from `created_at` it closed "before" it was made and counted as 0 days). An
    action a coach added to a plan was set when added (`created_at`). Needs the
    origin plan joined as `OriginPlan`."""
    return case((Action.source == "gap",
                 func.coalesce(OriginPlan.visited_at, Action.created_at)),
                else_=Action.created_at)


def progress_groups(session, scope, by, since, until, today):
    """Per group: key, label, facility_path, done, open, overdue, dropped, median
    (days from when a done action was set, `opened_at`, to when it was closed)."""
    if by == "plan":  # a carried-over action counts in every plan it is in
        stmt = (select().select_from(Action)
                .join(PlanEntry, PlanEntry.action_id == Action.id)
                .join(ImprovementPlan, ImprovementPlan.id == PlanEntry.plan_id))
        window_on = ImprovementPlan.created_at
    else:  # each action once, with the facility and owner of its latest plan
        stmt = (select().select_from(Action)
                .join(ImprovementPlan, ImprovementPlan.id == Action.plan_id))
        window_on = Action.created_at
    stmt = (stmt.outerjoin(OriginPlan, OriginPlan.id == Action.origin_plan_id)
            .where(in_scope_clause(ImprovementPlan.facility_path, scope)))
    if since:
        stmt = stmt.where(func.date(window_on) >= since)
    if until:
        stmt = stmt.where(func.date(window_on) <= until)
    key, label, path = _grouping(by)
    is_open = Action.status.in_(OPEN)
    done = Action.status == "done"
    # percentile_cont skips NULLs: only done actions count towards the median.
    # (Never below 0: a clock set wrong on a phone must not pull the median down.)
    days_to_close = case((done, func.greatest(
        func.extract("epoch", Action.closed_at - opened_at()), 0) / 86400))
    stmt = stmt.add_columns(
        key.label("key"), label.label("label"), path.label("facility_path"),
        func.count().filter(done).label("done"),
        func.count().filter(is_open).label("open"),
        func.count().filter(is_open & (Action.due_date < today)).label("overdue"),
        func.count().filter(Action.status == "dropped").label("dropped"),
        func.percentile_cont(0.5).within_group(days_to_close).label("median"),
    ).group_by(key)
    return session.execute(stmt).all()


def coachee_names(session, ids) -> dict:
    """Coachees' names as the visits recorded them."""
    ids = [i for i in ids if i]
    if not ids:
        return {}
    rows = session.execute(text(
        "select distinct person->>'id', person->>'name' from plans, "
        "jsonb_array_elements(plans.coachees) as person "
        "where person->>'id' = any(:ids)"), {"ids": ids}).all()
    return {person_id: name for person_id, name in rows if name}


def _grouping(by):
    """Key, label and facility path (SQL expressions) of the groups of `progress`."""
    if by == "plan":
        day = func.to_char(func.coalesce(ImprovementPlan.visited_at,
                                         ImprovementPlan.created_at), "YYYY-MM-DD")
        return (cast(ImprovementPlan.id, String),
                func.max(ImprovementPlan.facility_name + " (" + day + ")"),
                func.max(ImprovementPlan.facility_path))
    if by == "facility":
        return (ImprovementPlan.facility_id, func.max(ImprovementPlan.facility_name),
                func.max(ImprovementPlan.facility_path))
    if by == "district":
        district = func.regexp_replace(ImprovementPlan.facility_path, "/[^/]+$", "")
        return district, func.max(func.regexp_replace(district, "^.*/", "")), null()
    return Action.owner_id, func.max(Action.owner_id), null()
