"""Structured logs: one JSON object per line, carrying the visit's correlation id.

A visit's correlation id is set at the gateway (the caller's `X-Correlation-Id`
header, or a new one) and travels with every RPC (nameko context data) and every
event (the envelope's `correlation_id`), so one id finds a visit's lines in the
gateway, the checklist, the planner and notify. The id of the worker running
now is kept in a context variable (each green thread has its own), set when a
worker starts and cleared when it ends (`c2p.service.Observability`).

`C2P_LOG_FORMAT=json` (the default) or `text` for people reading a terminal.
"""
from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timezone

current: contextvars.ContextVar[dict] = contextvars.ContextVar("c2p_log_context", default={})


class ContextFilter(logging.Filter):
    """Adds the running worker's correlation id, event id and entrypoint to records."""

    def filter(self, record):
        for key, value in current.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("correlation_id", "event_id", "entrypoint")

    def __init__(self, service):
        super().__init__()
        self.service = service

    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self.FIELDS:
            value = getattr(record, field, None)
            if value:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RefusalsInOneLine(logging.Filter):
    """nameko logs an error its entrypoint expects (a refusal answered 4xx: bad input,
    out of scope, a conflict) with its whole traceback, in the service that refused
    and again in the gateway that relayed it. It is the caller's mistake, not a
    fault: one line, without the traceback."""

    def filter(self, record):
        if record.exc_info and str(record.msg).startswith("(expected)"):
            record.exc_info = None
            record.exc_text = None
        return True


def configure(service: str, fmt: str = "json", level=logging.INFO):
    # Neither format prints the caller's file and line, nor the thread or process
    # of a record: the logging HOWTO's "Optimization" switches turn off looking
    # them up for every record (a stack walk; under eventlet, a green thread
    # look-up), which cost more than formatting the line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("nameko").setLevel(logging.WARNING)
    nameko_workers = logging.getLogger("nameko.containers")
    if not any(isinstance(f, RefusalsInOneLine) for f in nameko_workers.filters):
        nameko_workers.addFilter(RefusalsInOneLine())


def enter(worker_ctx, method_name: str | None = None):
    """Set the log context of the worker starting in this green thread; `method_name`:
    the handler now running, when a worker runs several (`c2p.database.Database`)."""
    data = worker_ctx.context_data or {}
    current.set({"correlation_id": data.get("correlation_id") or "",
                 "event_id": data.get("event_id") or "",
                 "entrypoint": f"{worker_ctx.container.service_name}."
                               f"{method_name or worker_ctx.entrypoint.method_name}"})


def leave():
    current.set({})
