"""Production gunicorn settings, used as ``-c python:waqti.gunicorn_conf``."""

from __future__ import annotations

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Recycle workers now and then so slow leaks in third-party code cannot accumulate.
max_requests = 20_000
max_requests_jitter = 2_000
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# gunicorn believes no forwarding header (by default X-Forwarded-Proto from 127.0.0.1 would set
# wsgi.url_scheme): Django decides the scheme, from WAQTI_TRUSTED_PROXIES only
# (waqti/forwarded_proto.py), and the client address (waqti/client_ip.py).
forwarded_allow_ips = ""

# Activity log: start the flusher with the worker (it writes what killed workers left in the spool)
# and flush the buffer when the worker exits (also on max_requests recycling).
from tokens.activity.gunicorn_hooks import post_worker_init, worker_exit  # noqa: E402, F401
