"""The platform as separate OS processes, one (or more) per service.

Used by the end-to-end tests, the benchmarks and the fault runs: each service
runs as `python -m c2p.run <service>`, exactly as in production, and can be
killed (`kill -9`) and restarted one replica at a time. With `together`, some
services share one process (`python -m c2p.run a b …`, as a small deployment may
run them), named by their names joined with "+".
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

import requests

from c2p.config import SERVICES
from c2p.sandbox import ROOT, free_port

PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child, before exec: SIGTERM it when the process that started it dies
    (a test run killed or timed out), so no service outlives its platform."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: stop() still stops them
        pass


class LocalPlatform:
    def __init__(self, env: dict, log_dir: str, replicas: dict | None = None,
                 gateway_port: int | None = None, together: tuple[str, ...] = ()):
        """`replicas`: processes per service (1 each unless said); `together`: services
        run in one process, whose name (`"+".join(together)`) `replicas` may name."""
        self.env = dict(env)
        self.log_dir = log_dir
        self.replicas = {service: 1 for service in SERVICES if service not in together}
        if together:
            self.replicas["+".join(together)] = 1
        self.replicas.update(replicas or {})
        self.gateway_port = gateway_port or free_port()
        self.gateway_ports = []
        self.metrics_ports: dict[tuple[str, int], int] = {}  # /metrics, /readyz of each
        self.processes: dict[tuple[str, int], subprocess.Popen] = {}
        os.makedirs(log_dir, exist_ok=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def ops_url(self, service, index=0) -> str:
        """Where a process serves /metrics, /healthz and /readyz."""
        return f"http://127.0.0.1:{self.metrics_ports[(service, index)]}"

    def start(self, timeout=90):
        try:
            for service, count in self.replicas.items():
                for index in range(count):
                    self.start_one(service, index)
            self.wait_healthy(timeout)
        except BaseException:
            # The caller gets no platform to stop: stop what was started here.
            self.stop(grace=5)
            raise
        return self

    def start_one(self, service, index=0):
        env = dict(self.env)
        if service == "gateway":
            port = self.gateway_port if index == 0 else free_port()
            env["GATEWAY_PORT"] = str(port)
            if port not in self.gateway_ports:
                self.gateway_ports.append(port)
        # One host, many processes: each its own ops port (kept across restarts).
        port = self.metrics_ports.setdefault((service, index), free_port())
        env["C2P_METRICS_PORT"] = str(port)
        log = open(os.path.join(self.log_dir, f"{service}-{index}.log"), "ab")
        self.processes[(service, index)] = subprocess.Popen(
            self.command(service), env=env, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def command(self, service) -> list[str]:
        """How one service (or "a+b", several together) is run (the benchmarks may
        run it through a SQL counter)."""
        return [sys.executable, "-m", "c2p.run", *service.split("+")]

    def kill(self, service, index=0):
        """SIGKILL: no shutdown code runs, as when a machine or container dies."""
        process = self.processes[(service, index)]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def restart(self, service, index=0):
        self.start_one(service, index)

    def log(self, service, index=0) -> str:
        with open(os.path.join(self.log_dir, f"{service}-{index}.log"), errors="replace") as f:
            return f.read()

    def wait_healthy(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for (service, index), process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{service}-{index} exited:\n"
                                       + self.log(service, index)[-3000:])
            try:
                if all(requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok
                       for port in self.gateway_ports):
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the platform was not healthy within {timeout}s")

    def stop(self, grace=15) -> list[str]:
        """SIGTERM everything; returns the services that did not stop in time."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        stuck = []
        for (service, index), process in self.processes.items():
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                stuck.append(f"{service}-{index}")
        return stuck
