"""Settings of the test process: waqti.settings, on a Redis of the suite's own without REDIS_URL.

The server's Redis paths need a real Redis to be tested; CI sets REDIS_URL to the machine's. The
URL goes into the environment so the gunicorn and manage.py processes that tests start share it.
``make run`` never imports this module: without REDIS_URL it keeps its process-local cache.
"""

import os

from tests.suite_redis import start_suite_redis

if not os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = start_suite_redis()

from waqti.settings import *  # noqa: F403
