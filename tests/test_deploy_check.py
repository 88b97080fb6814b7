"""``manage.py check --deploy`` with a production environment reports nothing at all."""

from __future__ import annotations

import os
import secrets

from django.conf import settings

from tests.live_server import run_manage


def production_environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "WAQTI_")) and key != "PYTEST_CURRENT_TEST"
    }
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),  # 67 random characters
        DJANGO_ALLOWED_HOSTS=".waqti.sa",
        DATABASE_URL=settings.DATABASE_URL,
        REDIS_URL=settings.REDIS_URL or "redis://127.0.0.1:6379/0",
    )
    return env


def test_deploy_check_reports_no_issues():
    result = run_manage(production_environment(), "check", "--deploy", "--fail-level", "DEBUG")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in result.stdout, output
    assert "WARNINGS" not in output and "drf_spectacular" not in output, output


def test_deploy_check_refuses_without_a_secret_key():
    env = production_environment()
    del env["DJANGO_SECRET_KEY"]
    result = run_manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0." in result.stderr
