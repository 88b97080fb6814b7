"""Rate-limit counts survive a Redis restart with docker-compose.yml's Redis settings: a real
redis-server started with the arguments read out of the compose file, restarted mid-window
(cleanly, and killed hard), and the real counter (``tokens.ratelimit.counter``) counting on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from faults.compose import redis_server_args
from faults.servers import PrivateRedis
from tokens.ratelimit.counter import Window, count

PLAN_MINUTE = Window("plan.minute", 60, 60)
SPENT = 25
# appendfsync everysec: the background fsync runs once a second.
FSYNC_SECONDS = 1.0


@pytest.fixture
def compose_redis(settings) -> Iterator[PrivateRedis]:
    """A private redis-server with the compose file's settings, as the process's cache."""
    server = PrivateRedis(redis_server_args())
    server.start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    yield server
    server.close()


def test_the_compose_file_runs_redis_with_persistence_and_without_eviction(compose_redis):
    config = redis.Redis.from_url(compose_redis.url).config_get("*")
    assert (config["appendonly"], config["appendfsync"]) == ("yes", "everysec")
    assert config["maxmemory-policy"] == "noeviction"


@pytest.mark.parametrize("hard", [False, True], ids=["SIGTERM restart", "SIGKILL restart"])
def test_a_window_keeps_its_count_across_a_redis_restart(db, clock, compose_redis, hard):
    for expected in range(1, SPENT + 1):  # the time is held still: one window throughout
        assert count([PLAN_MINUTE], "tenant")[0].count == expected
    if hard:
        time.sleep(FSYNC_SECONDS + 0.2)  # a real server's fsync, not a test's clock
    compose_redis.restart(hard=hard)
    usage = count([PLAN_MINUTE], "tenant")
    assert usage is not None, "the first count after the restart found no Redis"
    assert usage[0].count == SPENT + 1
