"""Run the checklist service, take one submission, and die right after the commit.

Used by test_reliable_events: the process exits with code 9 (as under kill -9)
after the transaction with the outbox row has committed and the reply has been
sent, but before the event is published:

- `before-publish`: before the worker publishes its outbox rows;
- `while-publishing`: after the messages are written, before the broker confirms;
- `before-mark`: after the broker confirmed them, before they are marked sent.

Usage: python crash_after_commit.py '<submission json>' '<coach json>' [mode]
"""
from c2p.greening import green

green()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from nameko import config  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.standalone.rpc import ServiceRpcClient  # noqa: E402

import c2p.bus  # noqa: E402
import c2p.database  # noqa: E402
from c2p.config import load_settings  # noqa: E402
from c2p.run import nameko_settings  # noqa: E402
from checklist.service import ChecklistService  # noqa: E402

config.setup(nameko_settings(load_settings()))
mode = sys.argv[3] if len(sys.argv) > 3 else "before-publish"


def die(*args, **kwargs):
    os._exit(9)


if mode == "before-publish":  # the immediate publish after a worker's commit
    c2p.database.publish_rows = die
elif mode == "while-publishing":  # the relay never publishes a row this young
    c2p.bus.Bus.publish_all = die
else:  # before-mark
    c2p.database.SentMarks.add = die
container = ServiceContainer(ChecklistService)
container.start()
with ServiceRpcClient("checklist") as client:
    client.submit_checklist(json.loads(sys.argv[1]), json.loads(sys.argv[2]))
    import eventlet
    eventlet.sleep(30)  # the teardown kills the process before this ends
sys.exit(0)
