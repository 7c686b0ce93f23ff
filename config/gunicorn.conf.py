"""gunicorn's settings for the production stack (`make prod`, `scripts/prod`).

The worker count comes from WEB_CONCURRENCY (gunicorn reads it itself; see
config/settings.py), the address from HOST and PORT. A worker that dies is
replaced by the master at once; a request it held is lost to its client, who
sends it again with the same `client_uuid` (docs/SCALING.md).
"""

import gc
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
# Sync workers: one request at a time each, the request's database
# connection kept open between requests (CONN_MAX_AGE).
worker_class = "sync"
# Load the app once in the master: a killed worker is forked again in
# milliseconds instead of importing Django anew.
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Connections waiting for a worker.
backlog = 2048
pidfile = os.environ.get("GUNICORN_PIDFILE") or None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The request line carries only ids and codes (nothing personal in URLs).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# gunicorn's control socket lives at one path per user by default, so two
# servers on one machine would take it from each other; signals to the
# master (its pid is in the pidfile) do the same work.
control_socket_disable = True


def when_ready(server):
    """Compile the templates, load the translations and build the URL tables in the master, once, before
    the first worker is forked: each worker inherits them instead of paying for them on its first requests
    (config/warmup.py). Only with the app loaded here (preload_app)."""
    if not server.cfg.preload_app:
        return
    from config import warmup

    done = warmup.warm()
    server.log.info("Warmed up: %(templates)s templates compiled, %(languages)s languages loaded", done)


def post_worker_init(worker):
    """Each worker opens its own database connection and has PostgreSQL load the tables' catalogue entries
    for it before it takes a request (config/warmup.py): its first request no longer pays for them."""
    from config import warmup

    tables = warmup.warm_connection()
    worker.log.info("Worker %s connected to the database: %s tables read", worker.pid, tables)


def pre_fork(server, worker):
    """Move what the master loaded (Django, the app, the settings) out of the cycle collector's sight
    before a worker is forked: the worker's collections then walk only what requests make (the encounter
    list API's page of 100, ~10 % of its time), and the loaded pages stay shared between the workers
    instead of being copied when the collector touches them. Python's documentation (gc.freeze)
    recommends this for a pre-forking server."""
    gc.freeze()
