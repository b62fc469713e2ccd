"""The people named in a visit, checked against the accounts (which the gateway owns).

A coach names the staff met at a CSCom (`coachees` of a submission). Many of them,
vaccinators especially, have no C2P account. The rule chosen:

- an id that is an active **coachee account of that facility** is that person;
- an id that is an **account of anyone else** (a coach, a coachee of another
  facility) is refused, naming the field (`coachees.2.id`): it is a mistake, and
  accepting it would give a stranger the facility's actions;
- any other id (unknown, or a disabled account) is **staff without an account**:
  kept on the visit with `account: false`; the planner gives what would be theirs
  (actions, and so their alerts) to the facility's DTC instead of to nobody.

The facility's DTC (`dtc_id`, sent along with the visit) is the coachee named
as `dtc` on the visit who has an account, else the facility's oldest active
coachee account, else nobody (the coach is then alerted, as for any unowned action).
"""
from __future__ import annotations

from sqlalchemy import and_, bindparam, or_, select

from gateway.models import Account


def check_people(session, payload) -> tuple[dict, dict]:
    """(the payload with each coachee's `account` flag and the `dtc_id` set,
    {field: [reasons]} for each coachee id that is somebody else's account).
    A payload of the wrong shape is passed on unchanged: the checklist service
    names its problems."""
    if not isinstance(payload, dict):
        return payload, {}
    facility_id = payload.get("facility_id")
    coachees = payload.get("coachees")
    people = coachees if isinstance(coachees, list) else []
    ids = sorted({p["id"] for p in people if isinstance(p, dict) and isinstance(p.get("id"), str)})
    rows = _accounts(session, ids, facility_id if isinstance(facility_id, str) else None)
    accounts = {row.id: row for row in rows}
    errors = {}
    for position, person in enumerate(people):
        if not isinstance(person, dict) or not isinstance(person.get("id"), str):
            continue
        account = accounts.get(person["id"])
        if account is None or not account.active:
            person["account"] = False
        elif account.role != "coachee" or account.facility_id != facility_id:
            # Said the same way whoever the account is: no more is revealed of it.
            errors[f"coachees.{position}.id"] = [
                f"{person['id']} is an account but not a coachee of facility {facility_id}"]
        else:
            person["account"] = True
    payload["dtc_id"] = _dtc_of(rows, facility_id, people)
    return payload, errors


# Built once on the table's columns (Core): it is on the path of every visit, and
# building it per request with the ORM cost more CPU than running it. No id named
# (an empty IN) or no facility (`= NULL`) selects nothing on that side.
_A = Account.__table__.c
NAMED_OR_COACHEES = select(_A.id, _A.role, _A.facility_id, _A.active, _A.created_at).where(
    or_(_A.id.in_(bindparam("ids", expanding=True)),
        and_(_A.role == "coachee", _A.active.is_(True),
             _A.facility_id == bindparam("facility_id"))))


def _accounts(session, ids, facility_id):
    """The accounts named, and the facility's active coachees, in one read (plain
    rows, no ORM objects: it is on the path of every visit)."""
    if not ids and facility_id is None:
        return []
    return session.execute(NAMED_OR_COACHEES, {"ids": ids, "facility_id": facility_id}).all()


def _dtc_of(rows, facility_id, people):
    for person in people:
        if isinstance(person, dict) and person.get("role") == "dtc" and person.get("account"):
            return person["id"]
    if not isinstance(facility_id, str):
        return None
    coachees = [row for row in rows if row.role == "coachee" and row.active
                and row.facility_id == facility_id]
    oldest = min(coachees, key=lambda row: (row.created_at, row.id), default=None)
    return oldest.id if oldest is not None else None
