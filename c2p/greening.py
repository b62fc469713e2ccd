"""Make blocking libraries cooperate with eventlet, once per process.

psycopg2 is not greened by `eventlet.monkey_patch()`: without the patcher one
slow query stalls every worker of the service (see STYLE.md, "Known traps").
"""
import eventlet

_done = False


def green() -> None:
    global _done
    if _done:
        return
    eventlet.monkey_patch()
    from eventlet.support import psycopg2_patcher
    psycopg2_patcher.make_psycopg_green()
    _done = True
