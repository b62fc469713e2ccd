"""End-to-end throughput and latency of the supervision cycle.

A visit is POSTed to the gateway; the checklist service stores and scores it and
publishes `checklist.submitted`; the planner builds the plan (`plan.created`);
notify puts the alert in the coach's inbox. Latency is measured from the send
to the arrival of `plan.created` on a tap queue; completeness (one plan and one
inbox alert per visit) is checked in the databases after each run.

Load is open-loop at rising rates until latency breaks (p95 over the limit or
visits left without a plan), with one replica of each service, then two.

    python bench/pipeline.py [--rates 20,50,100,150,200] [--seconds 10] [--replicas 1,2]
"""
from harness import (COACH, Gateway, Tap, count_rows, local_sandbox, machine,  # noqa: I001
                     submission, summarise, write_json)

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import eventlet  # noqa: E402
from eventlet.queue import LightQueue  # noqa: E402

from c2p import deadletters  # noqa: E402
from c2p.processes import LocalPlatform  # noqa: E402

P95_LIMIT_MS = 300


def run_step(gateway, tap, rate, seconds, connections=64):
    pool = LightQueue()
    for _ in range(connections):
        pool.put(gateway.connection())
    sent, errors = {}, []

    def send(payload):
        conn = pool.get()
        try:
            started = time.monotonic()
            status, body = gateway.call(conn, "POST", "/api/v1/submissions", payload)
            if status in (200, 201):
                sent[payload["id"]] = started
            else:
                errors.append(status)
        except Exception as exc:  # a dropped keep-alive connection: count it, reconnect
            errors.append(type(exc).__name__)
            conn = gateway.connection()
        finally:
            pool.put(conn)

    green = eventlet.GreenPool(connections * 4)
    total = int(rate * seconds)
    start = time.monotonic()
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            eventlet.sleep(delay)
        green.spawn_n(send, submission())
    green.waitall()
    send_done = time.monotonic()
    deadline = send_done + max(20, seconds)
    while time.monotonic() < deadline:
        if all(("plan.created", sid) in tap.seen for sid in sent):
            break
        eventlet.sleep(0.1)
    # plan.created carries submission_id and plan_id; the tap keys it by submission.
    latencies = [tap.seen[("plan.created", sid)] - t for sid, t in sent.items()
                 if ("plan.created", sid) in tap.seen]
    missing = len(sent) - len(latencies)
    last = max((tap.seen[("plan.created", sid)] for sid in sent
                if ("plan.created", sid) in tap.seen), default=send_done)
    return {"offered_per_s": rate, "sent": total, "accepted": len(sent),
            "http_errors": len(errors), "error_kinds": sorted(set(map(str, errors))),
            "planned": len(latencies), "missing_plans": missing,
            "achieved_per_s": round(len(latencies) / max(last - start, 1e-9), 1),
            **summarise(latencies)}


def run_config(replicas, rates, seconds):
    box, s3 = local_sandbox("pipe")
    platform = None
    try:
        env = box.env(C2P_OUTBOX_INTERVAL_S=2, C2P_RETRY_DELAYS_MS="1000,5000,30000")
        platform = LocalPlatform(env, tempfile.mkdtemp(prefix="c2p-bench-"),
                                 replicas={s: replicas for s in
                                           ("checklist", "planner", "notify", "evidence",
                                            "gateway")}).start()
        tap = Tap(box.amqp_uri, ["plan.created"])
        gateway = Gateway(platform.gateway_port)
        gateway.sign_in(*COACH)
        steps = []
        for rate in rates:
            step = run_step(gateway, tap, rate, seconds)
            steps.append(step)
            print(f"  replicas={replicas} offered {rate}/s -> {step['achieved_per_s']}/s "
                  f"p50 {step['p50_ms']} p95 {step['p95_ms']} p99 {step['p99_ms']} ms "
                  f"missing {step['missing_plans']} errors {step['http_errors']}", flush=True)
            if step["missing_plans"] or (step["p95_ms"] or 0) > P95_LIMIT_MS * 3:
                break  # latency broke: higher rates only queue up
        tap.close()
        eventlet.sleep(10)  # let the queues drain before counting
        submissions = count_rows(box.database_urls["checklist"], "select count(*) from submissions")
        plans = count_rows(box.database_urls["planner"], "select count(*) from plans")
        alerts = count_rows(box.database_urls["notify"],
                            "select count(*) from inbox_messages where kind = 'plan.to_agree' "
                            "and recipient_id = 'u-coach-niono'")
        parked = len(deadletters.list_parked(box.amqp_uri))
        return {"replicas": replicas, "steps": steps,
                "totals": {"submissions": submissions, "plans": plans, "coach_alerts": alerts,
                           "parked": parked}}
    finally:
        if platform:
            platform.stop()
        box.close()
        s3.terminate()


def best(config):
    ok = [s for s in config["steps"] if not s["missing_plans"]
          and (s["p95_ms"] or 1e9) <= P95_LIMIT_MS]
    return max(ok, key=lambda s: s["achieved_per_s"]) if ok else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="20,50,100,150,200,250")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--replicas", default="1,2")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    configs = []
    for replicas in [int(r) for r in args.replicas.split(",")]:
        print(f"pipeline with {replicas} replica(s) of each service", flush=True)
        configs.append(run_config(replicas, rates, args.seconds))
    result = {"machine": machine(), "p95_limit_ms": P95_LIMIT_MS, "configs": configs,
              "best_within_limit": {c["replicas"]: best(c) for c in configs}}
    path = write_json("pipeline.json", result)
    print(f"written {os.path.relpath(path)}")
    return result


if __name__ == "__main__":
    main()
