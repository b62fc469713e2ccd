"""Fault runs: the supervision cycle under kill -9, broker and database restarts.

A stream of visits is sent to the gateway the way a phone syncs: each visit is
retried with its own client id until the gateway accepts it. Meanwhile a fault
is injected. Afterwards every visit must have exactly one submission, one plan
and one coach alert, nothing may be parked, and the outbox must be empty.

The CI suite runs a small version (tests/faults/test_faults.py); a larger run:

    python tests/faults/scenarios.py [--visits 300] [--rounds 5] [--only FAULT]
                                     [--per-second 8]
    python tests/faults/scenarios.py cluster [--visits 200] [--rounds 3]

Faults: kill (kill -9 each service in turn, `rounds` times), broker (RabbitMQ
restart), database (PostgreSQL restart), poison (an unreadable message in every
consumer queue), duplicates (every event delivered twice to every consumer),
cluster (a 3-node RabbitMQ cluster of its own, started for the run from the
local rabbitmq-server on other ports; the node leading the queues is killed).

Broker and database restarts act on the local RabbitMQ and PostgreSQL (with
rabbitmqctl and pg_ctlcluster): run them on a machine of your own, not on a
shared server.
"""
from c2p.greening import green

green()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import eventlet  # noqa: E402
import requests  # noqa: E402

from c2p import deadletters  # noqa: E402
from c2p.processes import LocalPlatform  # noqa: E402
from c2p.sandbox import EventListener, query  # noqa: E402

COACH_ID = "u-coach-niono"  # coach.niono, who sends every visit
SERVICES_TO_KILL = ("gateway", "checklist", "planner", "notify", "evidence")
FAULTS = ("kill", "broker", "database", "poison", "duplicates")
ITEMS = ("cc_temp_twice_daily", "cc_in_range", "stock_no_expired", "stock_cards_up_to_date",
         "dq_monitoring_chart")


def visit(index):
    facility = ("ML-SEG-NIO-CEN", "ML-SEG-NIO-MOL")[index % 2]
    # dtc.niono is a coachee of the central CSCom only: at the other one the DTC
    # is staff without an account (an account of another facility is refused).
    dtc = "u-dtc-niono" if facility == "ML-SEG-NIO-CEN" else "staff-dtc-molodo"
    return {"id": str(uuid.uuid4()), "facility_id": facility,
            "template_code": "pev-mini", "visited_at": datetime.now(timezone.utc).isoformat(),
            "coachees": [{"id": dtc, "role": "dtc"}],
            "answers": [{"item": code, "value": "no" if i == index % len(ITEMS) else "yes"}
                        for i, code in enumerate(ITEMS)]}


class Phone:
    """Sends visits and retries each, with the same id, until it is accepted."""

    def __init__(self, platform, username="coach.niono", password="demo-c2p-2025"):
        self.platform, self.credentials = platform, (username, password)
        self.token = None
        self.accepted: dict[str, int] = {}
        self.refused: list = []
        self.attempts = 0
        self.lock = threading.Lock()

    def _base(self):
        return self.platform.base_url

    def _sign_in(self):
        while True:
            try:
                r = requests.post(f"{self._base()}/api/v1/auth/token", timeout=10,
                                  json=dict(zip(("username", "password"), self.credentials)))
                if r.ok:
                    self.token = r.json()["access_token"]
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)

    def sync(self, payload, give_up_s=180):
        deadline = time.monotonic() + give_up_s
        delay = 0.2
        while time.monotonic() < deadline:
            with self.lock:
                self.attempts += 1
            if self.token is None:
                self._sign_in()
            try:
                r = requests.post(f"{self._base()}/api/v1/submissions", json=payload, timeout=15,
                                  headers={"Authorization": f"Bearer {self.token}"})
            except requests.RequestException:
                r = None
            if r is not None and r.status_code in (200, 201):
                self.accepted[payload["id"]] = r.status_code
                return
            if r is not None and r.status_code == 401:
                self.token = None
            elif r is not None and r.status_code in (403, 404, 409, 422):
                self.refused.append((payload["id"], r.status_code, r.text))
                return
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        self.refused.append((payload["id"], "gave up", ""))

    def stream(self, count, per_second, workers=6):
        pool = eventlet.GreenPool(workers * 4)
        start = time.monotonic()
        for index in range(count):
            wait = start + index / per_second - time.monotonic()
            if wait > 0:
                eventlet.sleep(wait)
            pool.spawn_n(self.sync, visit(index))
        return pool


def check_outcome(box, accepted_ids, timeout=90) -> dict:
    """Wait for the cycle to finish, then verify: zero lost, zero duplicated."""
    deadline = time.monotonic() + timeout
    expected = set(accepted_ids)
    while True:
        submissions = {str(r[0]) for r in query(box.database_urls["checklist"],
                                                 "select id from submissions")}
        plans = query(box.database_urls["planner"],
                       "select submission_id, count(*) from plans group by submission_id")
        # One "plan to agree" alert per plan and recipient (coach and coachees).
        alerts = query(box.database_urls["notify"],
                        "select recipient_id, link, count(*) from inbox_messages "
                        "where kind = 'plan.to_agree' group by recipient_id, link")
        unsent = sum(query(box.database_urls[s], "select count(*) from outbox "
                            "where published_at is null")[0][0]
                     for s in ("checklist", "planner"))
        planned = {str(r[0]) for r in plans}
        coach_alerts = [r for r in alerts if r[0] == COACH_ID]
        done = expected <= planned and len(coach_alerts) >= len(expected) and unsent == 0
        if done or time.monotonic() > deadline:
            break
        time.sleep(1)
    parked = deadletters.list_parked(box.amqp_uri)
    return {
        "visits_accepted": len(expected),
        "submissions_stored": len(submissions),
        "lost_submissions": len(expected - submissions),
        "unexpected_submissions": len(submissions - expected),
        "plans": len(plans),
        "visits_without_plan": len(expected - planned),
        "duplicate_plans": sum(1 for r in plans if r[1] > 1),
        "coach_alerts": len(coach_alerts),
        "duplicate_alerts": sum(1 for r in alerts if r[2] > 1),
        "unsent_outbox_rows": unsent,
        "parked_messages": len(parked),
        "parked": parked[:5],
    }


def passed(outcome, visits) -> bool:
    return (outcome["visits_accepted"] == visits and outcome["lost_submissions"] == 0
            and outcome["unexpected_submissions"] == 0
            and outcome["visits_without_plan"] == 0 and outcome["duplicate_plans"] == 0
            and outcome["coach_alerts"] == visits and outcome["duplicate_alerts"] == 0
            and outcome["unsent_outbox_rows"] == 0 and outcome["parked_messages"] == 0)


def eventually_parked(box, count, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        parked = deadletters.list_parked(box.amqp_uri)
        if len(parked) >= count or time.monotonic() > deadline:
            return parked
        time.sleep(0.5)


def kill_services(platform, rounds, pause_s=1.5):
    """kill -9 each service in turn, `rounds` times, restarting it each time."""
    kills = 0
    for _ in range(rounds):
        for service in SERVICES_TO_KILL:
            platform.kill(service)
            kills += 1
            time.sleep(0.3)
            platform.restart(service)
            if service == "gateway":
                platform.wait_healthy(60)
            time.sleep(pause_s)
    return kills


def restart_broker(down_s=3):
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True)
    time.sleep(down_s)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "await_startup"], capture_output=True)


def restart_database(down_s=3):
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop",
                    "-m", "fast"], check=True, capture_output=True)
    time.sleep(down_s)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                   check=True, capture_output=True)


class Duplicator(EventListener):
    """Delivers every event twice to every consumer: it copies each event from the
    exchange and publishes the copy again (marked, so copies are not copied)."""

    MARK = "x-c2p-duplicate"

    def __init__(self, amqp_uri):
        from c2p.bus import Bus
        self.bus, self.copied = Bus(amqp_uri), 0
        super().__init__(amqp_uri)

    def on_message(self, body, message):
        if not (message.headers or {}).get(self.MARK):
            self.bus.publish(message.body, exchange="c2p.events",
                             routing_key=message.delivery_info["routing_key"],
                             headers={self.MARK: 1},
                             message_id=message.properties.get("message_id"))
            self.copied += 1
        message.ack()

    def close(self):
        super().close()
        self.bus.close()


def inject_poison(amqp_uri) -> int:
    """One unreadable message into every consumed queue, straight through c2p.requeue."""
    from kombu import Connection
    from c2p import topology
    from c2p.bus import Bus
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        consumed = [queue for queue in topology.SUBSCRIPTIONS
                    if channel.queue_declare(queue, passive=True).consumer_count]
    bus = Bus(amqp_uri)
    try:
        for queue in consumed:
            bus.publish({"not": "an event"}, exchange=topology.REQUEUE_EXCHANGE.name,
                        routing_key=queue, message_id=f"poison-{queue}")
    finally:
        bus.close()
    return len(consumed)


def run(box, fault, visits, per_second=8, rounds=1, log_dir=None) -> dict:
    """One fault run on a sandbox; returns the outcome with `passed`."""
    # Production retry delays (1 s, 5 s, 30 s): the test default (150 ms, 300 ms)
    # would park messages during an outage of a few seconds instead of riding it out.
    platform = LocalPlatform(box.env(C2P_RPC_TIMEOUT_S=5, C2P_RETRY_DELAYS_MS="1000,5000,30000"),
                             log_dir or tempfile.mkdtemp(prefix=f"c2p-fault-{fault}-")).start()
    try:
        phone = Phone(platform)
        phone._sign_in()
        duplicator = Duplicator(box.amqp_uri) if fault == "duplicates" else None
        streamer = eventlet.spawn(phone.stream, visits, per_second)
        time.sleep(min(2.0, visits / per_second / 4))  # faults hit a flowing stream
        started = time.monotonic()
        if fault == "kill":
            injected = {"kills": kill_services(platform, rounds)}
        elif fault == "broker":
            restart_broker()
            injected = {"broker_restarts": 1}
        elif fault == "database":
            restart_database()
            injected = {"database_restarts": 1}
        elif fault == "duplicates":
            streamer.wait().waitall()
            time.sleep(3)
            duplicator.close()
            injected = {"events_delivered_twice": duplicator.copied}
        elif fault == "poison":
            injected = {"poison_injected": inject_poison(box.amqp_uri)}
        else:
            raise ValueError(fault)
        injected["fault_seconds"] = round(time.monotonic() - started, 1)
        streamer.wait().waitall()
        outcome = check_outcome(box, phone.accepted)
        outcome.update(injected, fault=fault, visits=visits, send_attempts=phone.attempts,
                       refused=phone.refused[:5])
        # A fault that no request felt proves nothing: some sends must have been retried.
        outcome["faults_felt"] = phone.attempts > visits
        if fault == "poison":
            # Every poison message parked, the stream unharmed, and replay works
            # (a replayed unreadable message is parked again, never lost).
            poisoned = outcome["parked_messages"]
            outcome["parked_messages"] -= injected["poison_injected"]
            replayed = deadletters.replay(box.amqp_uri)
            outcome["replayed"] = len(replayed)
            outcome["parked_after_replay"] = len(eventually_parked(box, poisoned))
            outcome["poison_ok"] = (poisoned == injected["poison_injected"]
                                    == outcome["replayed"] == outcome["parked_after_replay"])
        outcome["passed"] = (passed(outcome, visits) and not phone.refused
                             and outcome.get("poison_ok", True))
        return outcome
    finally:
        platform.stop()


CLUSTER_QUEUES = ("planner.on_checklist_submitted", "notify.on_plan_created")


def run_cluster(cluster, box, visits, per_second=5, rounds=1, down_s=5, log_dir=None) -> dict:
    """Visits flow while the node leading the queues is killed (SIGKILL), `rounds`
    times; each time a new leader must be elected among the other two, the
    services must fail over to them (AMQP_URI lists every node), and the killed
    node rejoins before the next round. Same checks as `run`: every visit ends
    with exactly one submission, plan and coach alert; nothing parked, nothing
    left in an outbox."""
    platform = LocalPlatform(box.env(C2P_RPC_TIMEOUT_S=5, C2P_RETRY_DELAYS_S="1,5,30"),
                             log_dir or tempfile.mkdtemp(prefix="c2p-fault-cluster-")).start()
    vhost = box.name
    killed = []
    try:
        phone = Phone(platform)
        phone._sign_in()
        streamer = eventlet.spawn(phone.stream, visits, per_second)
        time.sleep(min(2.0, visits / per_second / 4))
        started = time.monotonic()
        for _ in range(rounds):
            leader = cluster.leader_of(CLUSTER_QUEUES[0], vhost)
            cluster.kill(leader)
            killed.append(leader.name)
            # A new leader among the survivors, for every queue the cycle needs.
            for queue in CLUSTER_QUEUES:
                cluster.wait_leader_elsewhere(queue, vhost, leader)
            time.sleep(down_s)  # visits keep flowing on two nodes
            cluster.start_node(leader)  # rejoins the cluster on its own
        fault_s = round(time.monotonic() - started, 1)
        streamer.wait().waitall()
        outcome = check_outcome(box, phone.accepted)
        outcome.update(fault="cluster", visits=visits, nodes_killed=killed, fault_seconds=fault_s,
                       send_attempts=phone.attempts, refused=phone.refused[:5],
                       running_nodes=len(cluster.running_nodes()))
        # The fault reached the services: their broker connection dropped and
        # they carried on through another node (the phone may not notice).
        outcome["services_failed_over"] = sorted(
            service for service in SERVICES_TO_KILL
            if "Connection to broker lost" in platform.log(service))
        outcome["faults_felt"] = bool(outcome["services_failed_over"])
        outcome["passed"] = passed(outcome, visits) and not phone.refused
        return outcome
    finally:
        platform.stop()


def cluster_main(argv=None):
    """`python tests/faults/scenarios.py cluster [--visits N] [--rounds R]`: the larger
    cluster run, on a 3-node cluster of its own (c2p.rabbit_cluster)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bench"))
    from harness import machine, write_json
    from c2p.rabbit_cluster import RabbitCluster
    from c2p.sandbox import Sandbox, start_s3_server
    parser = argparse.ArgumentParser(description=run_cluster.__doc__)
    parser.add_argument("--visits", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-second", type=int, default=5)
    args = parser.parse_args(argv)
    s3_process, s3 = start_s3_server()
    try:
        with RabbitCluster(size=3) as cluster:
            box = Sandbox("", os.environ.get("C2P_BENCH_DATABASE_URL",
                                             "postgresql://postgres@localhost:5432/postgres"),
                          s3, prefix="fcl", vhosts=cluster)
            try:
                outcome = run_cluster(cluster, box, args.visits, args.per_second, args.rounds)
            finally:
                box.close()
    finally:
        s3_process.terminate()
    print(json.dumps({k: v for k, v in outcome.items() if k != "parked"}, indent=1))
    write_json("faults-cluster.json", {"machine": machine(), "runs": [outcome]})
    return 0 if outcome["passed"] else 1


def main(argv=None):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bench"))
    from harness import local_sandbox, machine, write_json
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--only", choices=FAULTS)
    parser.add_argument("--per-second", type=int, default=8,
                        help="visits sent per second (higher: handlers take batches)")
    args = parser.parse_args(argv)
    results = []
    for fault in [args.only] if args.only else FAULTS:
        box, s3 = local_sandbox(f"f{fault[:2]}")
        try:
            outcome = run(box, fault, args.visits, per_second=args.per_second,
                          rounds=args.rounds)
        finally:
            box.close()
            s3.terminate()
        print(json.dumps({k: v for k, v in outcome.items() if k != "parked"}, indent=1))
        results.append(outcome)
    write_json("faults.json", {"machine": machine(), "runs": results})
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["cluster"]:
        sys.exit(cluster_main(sys.argv[2:]))
    sys.exit(main())
