"""The demo accounts of the gateway seed, on a fresh database: contacts, cohort
and coaching assignments, announced once through the outbox, idempotent."""
import uuid
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import create_engine, text

from c2p import migrate
from c2p.contracts import Event
from c2p.database import driver_url
from gateway import seed


def test_seed_announces_each_demo_account_once_with_its_coaching(database_urls):
    server = urlsplit(database_urls["gateway"])
    url = urlunsplit((server.scheme, server.netloc, f"/c2p_seed_{uuid.uuid4().hex[:8]}",
                      "", ""))
    migrate.upgrade("gateway", url)
    engine = create_engine(driver_url(url))
    try:
        seed.run(engine)
        seed.run(engine)  # again: nothing new
        with engine.connect() as conn:
            envelopes = [row[0] for row in conn.execute(text(
                "select envelope from outbox order by created_at"))]
            accounts = dict(conn.execute(text("select username, coaching from accounts")).all())
        events = [Event.from_wire(e) for e in envelopes]  # valid against the contract
        assert [e.type for e in events] == ["account.created"] * len(seed.DEMO_ACCOUNTS)
        by_name = {e.data["username"]: e.data for e in events}
        assert [a["facility_id"] for a in by_name["coach.niono"]["coaching"]] == [
            "ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL"]
        assert [a["facility_id"] for a in by_name["coach.kayes"]["coaching"]] == [
            "ML-KAY-KAY-LAF"]
        assert by_name["dtc.niono"]["facility_id"] == "ML-SEG-NIO-CEN"
        assert all(d["cohort"] == "cohort-1" for n, d in by_name.items()
                   if n in ("coach.niono", "coach.kayes", "dtc.niono"))
        assert by_name["coach.niono"]["phone"].startswith("+223")
        assert accounts["coach.kayes"] == by_name["coach.kayes"]["coaching"]
    finally:
        engine.dispose()
        admin = create_engine(driver_url(urlunsplit((server.scheme, server.netloc,
                                                     "/postgres", "", ""))),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{urlsplit(url).path[1:]}" '
                              "with (force)"))
        admin.dispose()
