"""Demo accounts (idempotent). Loaded by `python -m c2p.seed`."""
from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.auth import hash_password
from gateway.models import Account

DEMO_PASSWORD = "demo-c2p-2025"

# id, username, display name, role, scope (org-unit paths), language
DEMO_ACCOUNTS = [
    ("u-coach-niono", "coach.niono", "Awa Traoré", "coach", ["/ML/ML-SEG/ML-SEG-NIO"], "fr"),
    ("u-coach-kayes", "coach.kayes", "Moussa Keïta", "coach", ["/ML/ML-KAY/ML-KAY-KAY"], "fr"),
    ("u-dtc-niono", "dtc.niono", "Fatoumata Diarra", "coachee",
     ["/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"], "fr"),
    ("u-champion-segou", "champion.segou", "Ibrahim Coulibaly", "champion", ["/ML/ML-SEG"], "fr"),
    ("u-manager", "manager.national", "Aminata Sangaré", "manager", ["/ML"], "en"),
    ("u-admin", "admin", "Administrateur C2P", "admin", ["/ML"], "fr"),
]


def run(engine, demo: bool = True) -> None:
    if not demo:
        return
    with Session(engine) as session, session.begin():
        for account_id, username, name, role, scope, language in DEMO_ACCOUNTS:
            existing = session.get(Account, account_id)
            if existing is None:
                session.add(Account(id=account_id, username=username,
                                    password_hash=hash_password(DEMO_PASSWORD),
                                    display_name=name, role=role, scope=scope,
                                    language=language, active=True))
