"""What a killed run leaves on the shared servers is removed by the next run.

A sandbox's vhost and databases carry the id of the process that made them; a
run that dies before `close()` leaves them behind, and they cost the broker and
the disk until someone removes them. `remove_orphans` removes those whose owner
is dead, and those named before names carried an owner, and nothing else.
"""
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from c2p import sandbox
from c2p.database import driver_url

pytestmark = pytest.mark.skipif(not shutil.which("rabbitmqctl"),
                                reason="needs the local broker's rabbitmqctl")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def vhost_names() -> set:
    out = subprocess.run(["rabbitmqctl", "-q", "list_vhosts", "--no-table-headers"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def database_names(admin) -> set:
    with admin.connect() as conn:
        return set(conn.execute(text("select datname from pg_database")).scalars())


def test_the_sandboxes_of_dead_runs_go_and_the_live_ones_stay(infra):
    if infra["rabbit_api"]:
        pytest.skip("the broker is a container: its vhosts are not this machine's")
    vhosts = sandbox.Vhosts(infra["amqp"])
    dead, live = dead_pid(), sandbox.owned_vhost("orph")
    made = {"dead": f"c2p-orph-{dead}-0123abcd", "old": "c2p-orph-0123abcdef", "live": live,
            "other": "c2p-orphans-kept"}
    for name in made.values():
        vhosts.create(name)
    admin = create_engine(driver_url(infra["postgres"]), isolation_level="AUTOCOMMIT")
    databases = {"dead": f"c2p_orph_{dead}_0123abcd_notify", "old": "c2p_orph0123abcd_notify",
                 "live": f"c2p_{sandbox.owned_name('orph')}_notify", "other": "c2p_orph_kept"}
    with admin.connect() as conn:
        for name in databases.values():
            conn.execute(text(f'create database "{name}"'))
    try:
        removed = sandbox.remove_orphans(infra["amqp"], infra["postgres"])
        assert removed[0] >= 2 and removed[1] >= 2
        left, left_db = vhost_names(), database_names(admin)
        assert made["dead"] not in left and made["old"] not in left
        assert made["live"] in left and made["other"] in left
        assert databases["dead"] not in left_db and databases["old"] not in left_db
        assert databases["live"] in left_db and databases["other"] in left_db
    finally:
        for name in made.values():
            vhosts.delete(name)
        with admin.connect() as conn:
            for name in databases.values():
                conn.execute(text(f'drop database if exists "{name}"'))
        admin.dispose()
