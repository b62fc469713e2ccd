"""Run the checklist service, take one submission, and die right after the commit.

Used by test_reliable_events: the process exits with code 9 (as under kill -9)
after the transaction with the outbox row has committed and the reply has been
sent, but before the event is published.
Usage: python crash_after_commit.py '<submission json>' '<coach json>'
"""
from c2p.greening import green

green()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from nameko import config  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.standalone.rpc import ServiceRpcClient  # noqa: E402

import c2p.database  # noqa: E402
from c2p.config import load_settings  # noqa: E402
from c2p.run import nameko_settings  # noqa: E402
from checklist.service import ChecklistService  # noqa: E402

config.setup(nameko_settings(load_settings()))
original = c2p.database.publish_pending


def publish_or_die(*args, ids=None, **kwargs):
    if ids:  # the immediate publish after a worker's commit
        os._exit(9)
    return original(*args, ids=ids, **kwargs)


c2p.database.publish_pending = publish_or_die
container = ServiceContainer(ChecklistService)
container.start()
with ServiceRpcClient("checklist") as client:
    client.submit_checklist(json.loads(sys.argv[1]), json.loads(sys.argv[2]))
    import eventlet
    eventlet.sleep(30)  # the teardown kills the process before this ends
sys.exit(0)
