"""End-to-end tier: every service runs as its own process (`python -m c2p.run`),
as in production, and the test talks HTTP to the gateway only."""
import os
import subprocess
import sys

import pytest
import requests

from c2p.config import SERVICES
from support import ROOT, eventually, free_port


@pytest.fixture
def platform(process_env, tmp_path):
    """The whole platform, one process per service; yields the gateway's base URL."""
    port = free_port()
    env = {**process_env, "GATEWAY_PORT": str(port)}
    processes = {}
    for service in SERVICES:
        log = open(tmp_path / f"{service}.log", "wb")
        processes[service] = subprocess.Popen([sys.executable, "-m", "c2p.run", service],
                                              env=env, cwd=ROOT, stdout=log,
                                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def healthy():
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: "
                                   + (tmp_path / f"{name}.log").read_text()[-3000:])
        try:
            return requests.get(f"{base}/health", timeout=1).ok
        except requests.ConnectionError:
            return False

    eventually(healthy, timeout=60, interval=0.3)
    yield base
    for process in processes.values():
        process.terminate()
    for name, process in processes.items():
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"{name} did not stop on SIGTERM within 15 s")
