"""The people named on a visit against the gateway's real accounts (gateway.people):
who is an account of the facility, who is somebody else's, who is staff without
one, and who the facility's DTC is."""
from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.models import Account
from gateway.people import check_people

CEN, MOL = "ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL"


def visit(facility_id, *people):
    return {"facility_id": facility_id, "coachees": [dict(p) for p in people]}


def test_accounts_of_the_facility_staff_without_one_and_the_dtc(engines):
    with Session(engines["gateway"]) as session:
        payload, wrong = check_people(session, visit(
            CEN, {"id": "u-dtc-niono", "role": "dtc"}, {"id": "vacc-1", "role": "vaccinator"}))
        assert wrong == {} and payload["dtc_id"] == "u-dtc-niono"
        assert [p["account"] for p in payload["coachees"]] == [True, False]

        # No DTC named: the facility's coachee account is the DTC all the same.
        payload, wrong = check_people(session, visit(CEN, {"id": "vacc-1", "role": "vaccinator"}))
        assert wrong == {} and payload["dtc_id"] == "u-dtc-niono"

        # Somebody else's account is refused, naming the field.
        payload, wrong = check_people(session, visit(
            CEN, {"id": "vacc-1"}, {"id": "u-coach-kayes", "role": "dtc"}))
        assert list(wrong) == ["coachees.1.id"]
        _, wrong = check_people(session, visit(MOL, {"id": "u-dtc-niono", "role": "dtc"}))
        assert list(wrong) == ["coachees.0.id"]

        # A facility with no coachee account has no DTC; nobody named, no read needed.
        assert check_people(session, visit(MOL, {"id": "vacc-2"}))[0]["dtc_id"] is None
        assert check_people(session, {"coachees": "not a list"})[0]["dtc_id"] is None

    # A disabled account is staff without an account, and no longer the DTC.
    with engines["gateway"].begin() as conn:
        conn.execute(update(Account).where(Account.id == "u-dtc-niono").values(active=False))
    try:
        with Session(engines["gateway"]) as session:
            payload, wrong = check_people(session, visit(CEN, {"id": "u-dtc-niono", "role": "dtc"}))
            assert wrong == {} and payload["coachees"][0]["account"] is False
            assert payload["dtc_id"] is None
    finally:
        with engines["gateway"].begin() as conn:
            conn.execute(update(Account).where(Account.id == "u-dtc-niono").values(active=True))
