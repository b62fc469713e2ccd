"""A throwaway 3-node RabbitMQ cluster on this machine, for the cluster fault runs.

Built from the `rabbitmq-server` installed here (Debian's package): three nodes
(`c2pq<N>-<run>@localhost`), each with its own AMQP and distribution ports, its
own data and log directories under one temporary directory, its own empty
config, no plugins (so nothing competes for the management port 15672), and one
Erlang cookie shared by the three but not by the machine's own broker.

It never touches the shared node on 5672 or its data directory: every command
is pointed at our nodes with `-n` and runs with HOME set to the temporary
directory, where our cookie lives. The epmd daemon is shared (nodes only
register names in it) and is never stopped.

    with RabbitCluster(size=3) as cluster:
        cluster.amqp_uri            # "amqp://guest:guest@127.0.0.1:p1/;amqp://...:p2/;..."
        cluster.leader_of("planner.on_checklist_submitted", vhost)
        cluster.kill(node)          # SIGKILL of the node's Erlang VM
        cluster.start_node(node)    # back, rejoins on its own
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

from c2p.sandbox import free_port, wait_port

SCRIPTS = "/usr/lib/rabbitmq/bin"


def available() -> bool:
    """True where Debian's rabbitmq-server is installed (the scripts we drive)."""
    return os.path.exists(os.path.join(SCRIPTS, "rabbitmq-server"))


class Node:
    def __init__(self, name, port, dist_port, base):
        self.name, self.port, self.dist_port, self.base = name, port, dist_port, base
        self.process: subprocess.Popen | None = None

    def __repr__(self):
        return f"Node({self.name}, amqp={self.port})"


class RabbitCluster:
    def __init__(self, size: int = 3, base_dir: str | None = None):
        self.run_id = uuid.uuid4().hex[:6]
        self.dir = tempfile.mkdtemp(prefix="c2p-rabbit-cluster-", dir=base_dir)
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        cookie = os.path.join(self.home, ".erlang.cookie")
        with open(cookie, "w") as f:
            f.write(secrets.token_hex(16).upper())
        os.chmod(cookie, 0o400)
        # No plugins at all, and an empty config: nothing from /etc/rabbitmq.
        self.plugins_file = os.path.join(self.dir, "enabled_plugins")
        with open(self.plugins_file, "w") as f:
            f.write("[].\n")
        self.nodes = []
        for index in range(1, size + 1):
            base = os.path.join(self.dir, f"node{index}")
            os.makedirs(os.path.join(base, "log"))
            node = Node(f"c2pq{index}-{self.run_id}@localhost", free_port(), free_port(), base)
            with open(os.path.join(base, "rabbitmq.conf"), "w") as f:
                f.write(f"listeners.tcp.local = 127.0.0.1:{node.port}\n"
                        "loopback_users = none\n"
                        # Small disk/memory guards: the machine is shared.
                        "disk_free_limit.absolute = 50MB\n")
            with open(os.path.join(base, "rabbitmq-env.conf"), "w") as f:
                f.write("# deliberately empty: settings come from the environment\n")
            self.nodes.append(node)

    # --- environment and commands --------------------------------------------

    def env(self, node: Node) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
        env.update({
            "HOME": self.home,
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(node.base, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(node.base, "log"),
            "RABBITMQ_CONFIG_FILE": os.path.join(node.base, "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(node.base, "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": self.plugins_file,
            "RABBITMQ_PID_FILE": os.path.join(node.base, "pid"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(node.base, "advanced.config"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        })
        return env

    def ctl(self, node: Node, *args, tool="rabbitmqctl", check=True, timeout=60) -> str:
        result = subprocess.run([os.path.join(SCRIPTS, tool), "-n", node.name, *args],
                                env=self.env(node), capture_output=True, text=True,
                                timeout=timeout, cwd=self.dir)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} on {node.name} failed: "
                               f"{result.stdout}{result.stderr}")
        return result.stdout

    # --- life cycle ------------------------------------------------------------

    def launch(self, node: Node):
        log = open(os.path.join(node.base, "log", "console.log"), "ab")
        node.process = subprocess.Popen([os.path.join(SCRIPTS, "rabbitmq-server")],
                                        env=self.env(node), cwd=self.dir, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def start_node(self, node: Node, timeout=120):
        """Start a node (or, if launched already, wait until it is up)."""
        if not self.alive(node):
            self.launch(node)
        deadline = time.monotonic() + timeout
        while True:  # await_startup fails at once until the node has registered in epmd
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited:\n{self.console(node)[-3000:]}")
            try:
                self.ctl(node, "await_startup", "--timeout", "30", timeout=40)
                break
            except Exception:  # a failure or a timeout (two TimeoutExpired classes under eventlet)
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        wait_port("127.0.0.1", node.port, timeout)

    def console(self, node: Node) -> str:
        with open(os.path.join(node.base, "log", "console.log"), errors="replace") as f:
            return f.read()

    def start(self):
        try:
            for node in self.nodes:  # boot side by side, then wait for each
                self.launch(node)
            for node in self.nodes:
                self.start_node(node)
            first = self.nodes[0]
            for node in self.nodes[1:]:
                self.ctl(node, "stop_app")
                self.ctl(node, "join_cluster", first.name)
                self.ctl(node, "start_app")
            # Quorum queues with at-least-once dead-lettering need every feature flag.
            self.ctl(first, "enable_feature_flag", "all")
            members = self.running_nodes()
            if len(members) != len(self.nodes):
                raise RuntimeError(f"cluster has {members}, expected {len(self.nodes)} nodes")
        except BaseException:
            self.close()
            raise
        return self

    def running_nodes(self) -> list[str]:
        """The nodes the cluster says are running (asked of each live node in turn)."""
        problem = None
        for node in [n for n in self.nodes if self.alive(n)]:
            try:
                out = self.ctl(node, "eval", "rabbit_nodes:all_running().", timeout=30)
            except Exception as exc:  # a node just restarted may be slow to answer
                problem = exc
                continue
            return sorted(part.strip(" []'\n") for part in out.split(",")
                          if part.strip(" []'\n"))
        raise RuntimeError(f"no node answered: {problem}")

    def alive(self, node: Node) -> bool:
        return node.process is not None and node.process.poll() is None

    def kill(self, node: Node):
        """SIGKILL the node's whole process group (the Erlang VM and its helpers)."""
        if node.process is None:
            return
        try:
            os.killpg(node.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.process.wait(30)
        node.process = None

    def close(self):
        for node in self.nodes:
            self.kill(node)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # --- for clients -----------------------------------------------------------

    def uri(self, node: Node, vhost: str = "/") -> str:
        from urllib.parse import quote
        return f"amqp://guest:guest@127.0.0.1:{node.port}/{quote(vhost, safe='')}"

    def amqp_uri(self, vhost: str = "/") -> str:
        """Every node, as kombu's failover list (`;`-separated)."""
        return ";".join(self.uri(node, vhost) for node in self.nodes)

    def add_vhost(self, name: str) -> str:
        node = next(n for n in self.nodes if self.alive(n))
        self.ctl(node, "add_vhost", name)
        self.ctl(node, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        return self.amqp_uri(name)

    # Vhosts, as c2p.sandbox.Sandbox asks for them.
    create = add_vhost

    def delete(self, name: str):
        node = next((n for n in self.nodes if self.alive(n)), None)
        if node is not None:
            self.ctl(node, "delete_vhost", name, check=False)

    def leader_of(self, queue: str, vhost: str = "/", timeout=90) -> Node:
        """The node leading a quorum queue, as its Raft members report it (asked of
        each live node in turn: a node just restarted may be slow to answer)."""
        import json
        deadline = time.monotonic() + timeout
        while True:
            for node in [n for n in self.nodes if self.alive(n)]:
                try:
                    out = self.ctl(node, "quorum_status", "-p", vhost, queue, "--formatter",
                                   "json", "--timeout", "15", tool="rabbitmq-queues", timeout=25)
                    members = json.loads(out[out.index("["):])
                except Exception:  # under eventlet, subprocess.TimeoutExpired is not the class raised
                    continue
                for member in members:
                    if member.get("Raft State") == "leader":
                        return next(n for n in self.nodes if n.name == member["Node Name"])
            if time.monotonic() > deadline:
                raise LookupError(f"no leader for {queue!r} in vhost {vhost!r}")
            time.sleep(0.5)

    def wait_leader_elsewhere(self, queue: str, vhost: str, old: Node, timeout=60) -> Node:
        deadline = time.monotonic() + timeout
        while True:
            try:
                leader = self.leader_of(queue, vhost, timeout=15)
                if leader is not old:
                    return leader
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no new leader for {queue} within {timeout}s")
            time.sleep(0.5)
