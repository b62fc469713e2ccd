"""Streaming evidence through the gateway: throughput against a direct upload, and memory.

A file of several hundred MB (a generated one-page PDF whose page content is
random-looking bytes) is PUT to the gateway, which pipes it to the S3 server in
multipart parts; the evidence service then verifies it (copy, read back,
SHA-256, and a parse of the PDF's structure, which never reads its page data).
The same file is uploaded straight to the same S3 server with the
minio SDK as the baseline. Reported:

- throughput of each path, and their ratio (gateway store phase / direct);
- the gateway process's peak RSS growth during the upload (kernel's VmHWM after
  resetting it through /proc/<pid>/clear_refs, cross-checked by sampling
  VmRSS every 20 ms): it must stay under 64 MB whatever the file size.

Every process runs on this machine (2 cores shared with the bench itself), on
loopback, against the local S3 stand-in (moto).

    python bench/evidence_streaming.py [--megabytes 300] [--runs 2]
"""
import os  # noqa: I001
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Gateway, count_rows, deployed_env, local_sandbox, machine,  # noqa: E402
                     write_json)

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import eventlet  # noqa: E402

from c2p.config import load_settings  # noqa: E402
from c2p.processes import LocalPlatform  # noqa: E402

MB = 1024 * 1024
RSS_LIMIT_MB = 64


def make_file(path, megabytes):
    """A real one-page PDF (the evidence service parses PDFs) whose page content
    stream is `megabytes` of random bytes, written block by block."""
    block = os.urandom(MB)
    offsets = []
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        for text in (b"<< /Type /Catalog /Pages 2 0 R >>",
                     b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] "
                     b"/Contents 4 0 R >>"):
            offsets.append(f.tell())
            f.write(b"%d 0 obj\n" % (len(offsets)) + text + b"\nendobj\n")
        offsets.append(f.tell())
        f.write(b"4 0 obj\n<< /Length %d >>\nstream\n" % (megabytes * MB))
        for i in range(megabytes):
            # Vary each block a little so nothing downstream can deduplicate it.
            f.write(i.to_bytes(8, "big") + block[8:])
        f.write(b"\nendstream\nendobj\n")
        xref = f.tell()
        f.write(b"xref\n0 5\n0000000000 65535 f \n"
                + b"".join(b"%010d 00000 n \n" % at for at in offsets)
                + b"trailer << /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return os.path.getsize(path)


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB -> bytes
    raise KeyError(field)


def reset_peak(pid):
    """Reset the kernel's peak RSS (VmHWM) of a process to its current RSS."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


class RssSampler:
    def __init__(self, pid, interval=0.02):
        self.pid, self.interval, self.peak, self.stopped = pid, interval, 0, False
        self.thread = eventlet.spawn(self._run)

    def _run(self):
        while not self.stopped:
            self.peak = max(self.peak, proc_status(self.pid, "VmRSS"))
            eventlet.sleep(self.interval)

    def stop(self):
        self.stopped = True
        self.thread.wait()
        return self.peak


def wait_for(check, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise RuntimeError(f"{what} not met within {timeout}s")


def an_action(box):
    """An action that may receive evidence: a `plan.created` event on the bus, as the
    planner publishes it (only the gateway and the evidence service run here)."""
    from datetime import date

    from c2p.bus import Bus
    from c2p.contracts import Event
    from c2p.topology import EVENTS_EXCHANGE
    action_id = uuid.uuid4()
    event = Event(type="plan.created", source="bench", data={
        "plan_id": uuid.uuid4(), "submission_id": uuid.uuid4(),
        "facility_id": "ML-SEG-NIO-CEN", "facility_name": "CSCom central de Niono",
        "facility_path": "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN",
        "coach_id": "u-coach-niono", "coachee_ids": ["u-dtc-niono"],
        "actions": [{"action_id": action_id, "item_code": "dq_monitoring_chart",
                     "text_fr": "Afficher la courbe de suivi", "text_en": "Display the chart",
                     "owner_id": "u-dtc-niono", "owner_role": "dtc",
                     "due_date": date(2026, 12, 31), "critical": False, "status": "todo"}]})
    bus = Bus(box.amqp_uri)
    try:
        bus.publish(event.to_wire(), exchange=EVENTS_EXCHANGE.name, routing_key=event.type,
                    message_id=str(event.id))
    finally:
        bus.close()
    wait_for(lambda: count_rows(box.database_urls["evidence"],
                                f"select count(*) from evidence_targets "
                                f"where action_id = '{action_id}'"), what="evidence target")
    return str(action_id)


def stream_once(port, token, path, size, action_id, gateway_pid):
    evidence_id = str(uuid.uuid4())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.blocksize = 256 * 1024
    baseline = proc_status(gateway_pid, "VmRSS")
    reset_peak(gateway_pid)
    sampler = RssSampler(gateway_pid)
    started = time.monotonic()
    with open(path, "rb") as body:
        conn.request("PUT", f"/api/v1/evidence/{evidence_id}/content"
                            f"?action_id={action_id}&filename=rapport-bench.pdf",
                     body=body, headers={"Authorization": f"Bearer {token}",
                                         "Content-Type": "application/pdf",
                                         "Content-Length": str(size)})
        response = conn.getresponse()
        payload = json.loads(response.read())
    elapsed = time.monotonic() - started
    sampled_peak = sampler.stop()
    kernel_peak = proc_status(gateway_pid, "VmHWM")
    conn.close()
    if response.status != 201:
        raise RuntimeError(f"gateway answered {response.status}: {payload}")
    timing = dict(re.findall(r"(\w+);dur=([\d.]+)", response.getheader("Server-Timing", "")))
    store_s = float(timing["store"]) / 1000
    return {"evidence_id": evidence_id, "total_s": round(elapsed, 3),
            "store_s": round(store_s, 3), "verify_s": round(float(timing["verify"]) / 1000, 3),
            "store_mb_per_s": round(size / MB / store_s, 1),
            "end_to_end_mb_per_s": round(size / MB / elapsed, 1),
            "rss_baseline_mb": round(baseline / MB, 1),
            "rss_peak_growth_mb": round((max(kernel_peak, sampled_peak) - baseline) / MB, 1),
            "rss_peak_growth_sampled_mb": round((sampled_peak - baseline) / MB, 1),
            "sha256": payload["sha256"], "size_bytes": payload["size_bytes"]}


DIRECT = """
import json, sys, time, uuid
from minio import Minio
endpoint, access, secret, region, bucket, path = sys.argv[1:7]
client = Minio(endpoint, access_key=access, secret_key=secret, secure=False, region=region)
if not client.bucket_exists(bucket):
    client.make_bucket(bucket)
key = f"bench/direct-{uuid.uuid4()}"
started = time.monotonic()
client.fput_object(bucket, key, path, content_type="application/pdf")
elapsed = time.monotonic() - started
client.remove_object(bucket, key)
print(json.dumps({"total_s": elapsed}))
"""


def direct_once(settings, path, size):
    """The baseline in a plain Python process (no eventlet), with the SDK's defaults
    (multipart, 3 parallel part uploads): as a phone-side tool or script would."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", DIRECT, settings.s3_endpoint,
                          settings.s3_access_key, settings.s3_secret_key, settings.s3_region,
                          settings.evidence_bucket, path], capture_output=True, text=True,
                         check=True).stdout
    elapsed = json.loads(out.strip().splitlines()[-1])["total_s"]
    return {"total_s": round(elapsed, 3), "mb_per_s": round(size / MB / elapsed, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=300)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="c2p-evidence-bench-")
    path = os.path.join(workdir, "evidence.pdf")
    size = make_file(path, args.megabytes)
    box, s3_process = local_sandbox("evbench")
    platform = None
    try:
        env = deployed_env(box, EVIDENCE_MAX_BYTES=str(size + MB), C2P_RPC_TIMEOUT_S="600")
        settings = load_settings(env)
        platform = LocalPlatform(env, os.path.join(workdir, "logs"), replicas={
            "checklist": 0, "planner": 0, "notify": 0}).start()
        action_id = an_action(box)
        coachee = Gateway(platform.gateway_port)
        coachee.sign_in("dtc.niono", "demo-c2p-2025")
        gateway_pid = platform.processes[("gateway", 0)].pid

        direct, streamed = [], []
        for _ in range(args.runs):
            direct.append(direct_once(settings, path, size))
            streamed.append(stream_once(platform.gateway_port, coachee.token, path, size,
                                        action_id, gateway_pid))
    finally:
        if platform is not None:
            platform.stop()
        box.close()
        s3_process.terminate()
        s3_process.wait(10)
        os.remove(path)

    direct_mbps = statistics.median(r["mb_per_s"] for r in direct)
    store_mbps = statistics.median(r["store_mb_per_s"] for r in streamed)
    growth = max(r["rss_peak_growth_mb"] for r in streamed)
    result = {
        "machine": machine(), "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "file_mb": round(size / MB, 1), "runs": args.runs,
        "part_size_mb": 5, "direct": direct, "gateway": streamed,
        "direct_mb_per_s": direct_mbps, "gateway_store_mb_per_s": store_mbps,
        "throughput_ratio": round(store_mbps / direct_mbps, 2),
        "gateway_rss_peak_growth_mb": growth, "rss_limit_mb": RSS_LIMIT_MB,
        "within_limit": growth < RSS_LIMIT_MB,
        "summary": f"{store_mbps} vs {direct_mbps} MB/s, gateway RSS +{growth} MB",
    }
    rows = [("direct minio-SDK upload", f"{direct_mbps} MB/s", ""),
            ("through the gateway (store phase)", f"{store_mbps} MB/s",
             f"{result['throughput_ratio']}x direct"),
            ("through the gateway (with verification)",
             f"{statistics.median(r['end_to_end_mb_per_s'] for r in streamed)} MB/s", ""),
            ("gateway peak RSS growth", f"{growth} MB",
             f"limit {RSS_LIMIT_MB} MB: {'ok' if result['within_limit'] else 'EXCEEDED'}")]
    print(f"\nEvidence streaming, {result['file_mb']} MB file, median of {args.runs} runs")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
    print("written:", write_json("evidence_streaming.json", result))
    return result


if __name__ == "__main__":
    result = main()
    sys.exit(0 if result["within_limit"] else 1)
