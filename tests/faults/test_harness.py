"""The fault harness itself: private servers that really freeze, lose data and restart, and the
arithmetic of a load run."""

from __future__ import annotations

import psycopg
import pytest
import redis

from faults.load import NO_ANSWER, LoadResult, Sample
from faults.report import Row, table
from faults.servers import PrivatePostgres, PrivateRedis


@pytest.mark.slow
def test_private_redis_freezes_thaws_and_loses_data_on_a_hard_restart() -> None:
    server = PrivateRedis()
    server.start()
    url = server.url
    client = redis.Redis.from_url(url, socket_timeout=0.3)
    try:
        client.set("kept", "1")
        server.freeze()
        with pytest.raises(redis.TimeoutError):
            client.get("kept")
        server.thaw()
        client = redis.Redis.from_url(url, socket_timeout=0.3)  # the frozen reply is stale
        assert client.get("kept") == b"1"
        server.restart(hard=True)
        assert server.url == url
        assert client.get("kept") is None  # no persistence by default
    finally:
        client.close()
        server.close()
    assert not server.folder.exists()


@pytest.mark.slow
def test_private_postgres_restart_drops_sessions_and_stop_refuses_connections() -> None:
    server = PrivatePostgres()
    try:
        conn = psycopg.connect(server.url(), autocommit=True)
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert server.url().startswith("postgresql://postgres@127.0.0.1:")
        server.restart()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
        with psycopg.connect(server.url()) as fresh:
            assert fresh.execute("SELECT 1").fetchone() == (1,)
        server.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(server.url(), connect_timeout=2)
        server.start()
        with psycopg.connect(server.url()) as fresh:
            assert fresh.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.close()
    assert not server.folder.exists()


def test_load_result_counts_requests_started_in_a_window() -> None:
    result = LoadResult(started=100.0, finished=103.0)
    result.samples = [
        Sample(100.1, 0.010, 200, True),
        Sample(100.5, 0.030, 200, True),
        Sample(101.2, 0.500, 500, False),
        Sample(101.9, 1.000, NO_ANSWER, False, "ConnectionRefusedError"),
        Sample(102.4, 0.020, 200, True),
    ]
    assert result.statuses() == {200: 3, 500: 1, NO_ANSWER: 1}
    assert result.statuses(101.0, 102.0) == {500: 1, NO_ANSWER: 1}
    assert result.rate() == pytest.approx(4 / 3)  # answered requests only
    assert result.rate(100.0, 101.0) == 2.0
    assert result.p50(100.0, 101.0) == pytest.approx(0.020)
    assert result.max_seconds() == 1.0
    assert result.without_json() == 1  # the 500 without JSON; no answer is not counted
    assert [(s["second"], s["requests"]) for s in result.timeline()] == [(0, 2), (1, 2), (2, 1)]


def test_report_table_marks_unmet_requirements() -> None:
    text = table([Row("a", "1 req/s", ">= 1", True), Row("b", "0 req/s", ">= 1", False)])
    assert text.splitlines() == [
        "| fault | measured | requirement | ok |",
        "|---|---|---|---|",
        "| a | 1 req/s | >= 1 | yes |",
        "| b | 0 req/s | >= 1 | NO |",
    ]
