"""Demo accounts (idempotent). Loaded by `python -m c2p.seed`.

Each demo account created here is announced as `account.created`, and each one
whose demo fields this run changed as `account.updated`, through the gateway's
outbox (the rows are written in the seed's transaction; the gateway's relay
publishes them once it runs), so the notify service learns the demo
recipients' contacts like any other account's.
"""
from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.orm import Session

from c2p.contracts import Event
from c2p.database import outbox
from gateway.auth import hash_password
from gateway.models import Account

DEMO_PASSWORD = "demo-c2p-2025"
COHORT = "cohort-1"
NIONO = "/ML/ML-SEG/ML-SEG-NIO"
KAYES = "/ML/ML-KAY/ML-KAY-KAY"


def _follows(*paths):
    return [{"facility_id": path.rsplit("/", 1)[-1], "facility_path": path} for path in paths]


# id, username, display name, role, scope (org-unit paths), language, then the
# other fields of the account.
DEMO_ACCOUNTS = [
    ("u-coach-niono", "coach.niono", "Awa Traoré", "coach", [NIONO], "fr",
     dict(phone="+22376000101", email="awa.traore@c2p.example", cohort=COHORT,
          coaching=_follows(f"{NIONO}/ML-SEG-NIO-CEN", f"{NIONO}/ML-SEG-NIO-MOL"))),
    ("u-coach-kayes", "coach.kayes", "Moussa Keïta", "coach", [KAYES], "fr",
     dict(phone="+22376000102", email="moussa.keita@c2p.example", cohort=COHORT,
          coaching=_follows(f"{KAYES}/ML-KAY-KAY-LAF"))),
    ("u-dtc-niono", "dtc.niono", "Fatoumata Diarra", "coachee", [f"{NIONO}/ML-SEG-NIO-CEN"],
     "fr", dict(phone="+22376000103", email=None, cohort=COHORT,
                facility_id="ML-SEG-NIO-CEN")),
    ("u-champion-segou", "champion.segou", "Ibrahim Coulibaly", "champion", ["/ML/ML-SEG"],
     "fr", dict(phone="+22376000104", email="ibrahim.coulibaly@c2p.example", cohort=COHORT)),
    ("u-manager", "manager.national", "Aminata Sangaré", "manager", ["/ML"], "en",
     dict(phone="+22376000105", email="aminata.sangare@c2p.example")),
    ("u-admin", "admin", "Administrateur C2P", "admin", ["/ML"], "fr",
     dict(email="admin@c2p.example")),
    # A regional admin: an admin whose scope is one region (accounts, imports, the
    # desk, all of it within Ségou only).
    ("u-admin-segou", "admin.segou", "Mariam Dembélé", "admin", ["/ML/ML-SEG"], "fr",
     dict(email="mariam.dembele@c2p.example")),
]


def run(engine, demo: bool = True) -> None:
    if not demo:
        return
    from gateway.routes.accounts import state_of
    with Session(engine) as session, session.begin():
        for account_id, username, name, role, scope, language, extra in DEMO_ACCOUNTS:
            fields = {"phone": None, "email": None, "cohort": None, "facility_id": None,
                      "coaching": [], **extra}
            account = session.get(Account, account_id)
            if account is None:
                account = Account(id=account_id, username=username,
                                  password_hash=hash_password(DEMO_PASSWORD),
                                  display_name=name, role=role, scope=scope,
                                  language=language, active=True, token_version=0,
                                  preferences={}, **fields)
                session.add(account)
                session.flush()
                _announce(session, "account.created", state_of(account))
                continue
            before = state_of(account)
            for key, value in fields.items():
                setattr(account, key, value)
            if state_of(account) != before:
                _announce(session, "account.updated", state_of(account))


def _announce(session, event_type, data):
    event = Event(type=event_type, data=data, source="gateway",
                  correlation_id=f"seed-{uuid.uuid4()}")
    session.execute(insert(outbox).values(id=event.id, type=event.type,
                                          envelope=event.to_wire()))
