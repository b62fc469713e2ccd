"""A 3-node RabbitMQ cluster of its own: the node leading the queues is killed
while visits flow, and every visit still ends with exactly one submission, plan
and coach alert. (`python tests/faults/scenarios.py cluster` runs a larger one.)

The cluster is started from the local rabbitmq-server on free ports, with its
own data directories and Erlang cookie under a temporary directory, and torn
down at the end; the machine's own broker (5672) is never touched.
"""
import json

import pytest

from c2p import rabbit_cluster
from c2p.sandbox import Sandbox
from scenarios import run_cluster

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not rabbit_cluster.available(), reason="needs Debian's rabbitmq-server installed")]


@pytest.fixture
def cluster(tmp_path):
    with rabbit_cluster.RabbitCluster(size=3) as started:
        yield started


def test_killing_the_queue_leader_loses_and_duplicates_nothing(cluster, infra, tmp_path):
    assert len(cluster.running_nodes()) == 3
    box = Sandbox("", infra["postgres"], infra["s3"], prefix="fcl", vhosts=cluster)
    try:
        outcome = run_cluster(cluster, box, visits=30, per_second=4, rounds=1,
                              log_dir=str(tmp_path / "logs"))
    finally:
        box.close()
    report = json.dumps(outcome, indent=1, default=str)
    assert len(outcome["nodes_killed"]) == 1, report
    assert outcome["running_nodes"] == 3, report  # the killed node rejoined
    assert outcome["services_failed_over"], report  # the services felt it
    assert outcome["passed"], report
