"""RPC to the services, with a deadline; the webhook queue's bindings.

nameko 3.0.0rc11's RPC client waits for ever; a gateway worker must not. A call
that outlives `C2P_RPC_TIMEOUT_S` becomes ServiceUnavailable (HTTP 503).
"""
from __future__ import annotations

import eventlet
from nameko import config
from nameko.extensions import DependencyProvider

from c2p import topology
from c2p.entrypoints import ServiceRpc

from c2p.errors import ServiceUnavailable


class _Deadline:
    def __init__(self, client, service, seconds):
        self._client, self._service, self._seconds = client, service, seconds

    def __getattr__(self, method):
        remote = getattr(self._client, method)

        def call(*args, **kwargs):
            timeout = eventlet.Timeout(self._seconds, ServiceUnavailable(
                f"{self._service} did not answer within {self._seconds} s"))
            with timeout:
                return remote(*args, **kwargs)
        return call


class TimedRpc(ServiceRpc):
    def get_dependency(self, worker_ctx):
        client = super().get_dependency(worker_ctx)
        return _Deadline(client, self.target_service, config["C2P_SETTINGS"].rpc_timeout_s)


class WebhookQueue(DependencyProvider):
    """Gives a worker the binder of the webhook queue (`gateway.webhook_bindings`)."""

    def setup(self):
        from gateway.webhook_bindings import Broker
        self.broker = Broker(config["AMQP_URI"], topology.Shape.of(config["C2P_SETTINGS"]))

    def get_dependency(self, worker_ctx):
        return self.broker
