"""The bus's own floor: raw kombu publish-with-confirms and consume on the same
broker, with messages the size of a `checklist.submitted` envelope. The
platform's throughput is reported as a ratio of this.

    python bench/bus_floor.py [--messages 5000]
"""
from harness import machine, write_json  # noqa: I001

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from kombu import Connection, Queue  # noqa: E402

from c2p.bus import Bus  # noqa: E402
from c2p.sandbox import Vhosts, owned_vhost  # noqa: E402

BODY = {"type": "checklist.submitted", "data": {"padding": "x" * 2400}}


def measure(amqp_uri, messages):
    name = f"bench-floor-{uuid.uuid4().hex[:6]}"
    with Connection(amqp_uri) as conn:
        Queue(name, durable=True)(conn.channel()).declare()
    bus = Bus(amqp_uri)
    started = time.monotonic()
    for _ in range(messages):
        bus.publish(BODY, exchange="", routing_key=name)
    publish_s = time.monotonic() - started
    bus.close()
    received = 0
    with Connection(amqp_uri) as conn:
        def on_message(body, message):
            nonlocal received
            received += 1
            message.ack()
        started = time.monotonic()
        with conn.Consumer(Queue(name), callbacks=[on_message], accept=["json"]) as consumer:
            consumer.qos(prefetch_count=100)
            while received < messages:
                conn.drain_events(timeout=10)
        consume_s = time.monotonic() - started
        conn.channel().queue_delete(name)
    return {"messages": messages,
            "publish_confirmed_per_s": round(messages / publish_s, 1),
            "consume_acked_per_s": round(messages / consume_s, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args(argv)
    base = os.environ.get("C2P_BENCH_AMQP_URI", "amqp://guest:guest@localhost:5672/")
    vhosts = Vhosts(base)
    vhost = owned_vhost("floor")
    uri = vhosts.create(vhost)
    try:
        result = {"machine": machine(), **measure(uri, args.messages)}
    finally:
        vhosts.delete(vhost)
    print(f"bus floor: publish+confirm {result['publish_confirmed_per_s']}/s, "
          f"consume+ack {result['consume_acked_per_s']}/s")
    write_json("bus_floor.json", result)
    return result


if __name__ == "__main__":
    main()
