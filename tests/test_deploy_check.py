"""Production settings: `check --deploy` is clean; the image and compose default to them."""

from __future__ import annotations

import os
import re
import secrets
import shlex
from typing import Any

import yaml
from django.conf import settings

from tests.live_server import ROOT, run_manage
from waqti.client_ip import parse_trusted_proxies

# Secrets compose must be given: each is interpolated as ${NAME:?...}, never with a default.
COMPOSE_SECRETS = ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD")


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


# --- the image and the compose file ----------------------------------------------------------


def dockerfile_env() -> dict[str, str]:
    """The ``ENV`` instructions of the Dockerfile (``KEY=value`` form, continuation lines)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(item.split("=", 1) for item in shlex.split(line[4:]))
    return env


def test_image_defaults_to_production():
    assert dockerfile_env()["DJANGO_DEBUG"] == "0"


def test_image_defaults_refuse_to_start_without_a_secret_key():
    """What a bare ``docker run`` does: the image's environment, no DJANGO_* of our own."""
    env = production_environment()
    for name in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY"):
        del env[name]
    env.update(dockerfile_env())
    result = run_manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0." in result.stderr


def test_compose_has_no_default_for_any_secret():
    text = (ROOT / "docker-compose.yml").read_text()
    uses = re.findall(r"\$\{(" + "|".join(COMPOSE_SECRETS) + r")(?=[:}])(:?[-?]?)", text)
    assert {name for name, _form in uses} == set(COMPOSE_SECRETS)
    assert {form for _name, form in uses} == {":?"}, uses
    assert "waqti-dev-password" not in text
    database_url = re.search(r"DATABASE_URL: (\S+)", text)
    assert database_url is not None
    assert "${POSTGRES_PASSWORD:?" in database_url.group(1)


def test_documents_cite_test_files_that_exist():
    """Comments and docs point readers at tests; each cited file must be there."""
    for document in ("waqti/settings.py", "README.md", "BENCHMARKS.md"):
        text = (ROOT / document).read_text()
        for cited in re.findall(r"tests/[\w/]+\.py", text):
            assert (ROOT / cited).is_file(), f"{document} cites {cited}, which does not exist"


# --- HTTPS in front: the proxy service and its network ---------------------------------------


def compose_services() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_default(value: str) -> str:
    """``${NAME:-default}`` -> default."""
    match = re.fullmatch(r"\$\{\w+:-([^}]*)\}", value)
    assert match is not None, value
    return match.group(1)


def test_compose_publishes_only_the_tls_proxy():
    compose = compose_services()
    services = compose["services"]
    published = {name: service.get("ports") for name, service in services.items()}
    assert published == {
        "postgres": None,
        "redis": None,
        "migrate": None,
        "web": None,
        "worker": None,
        "proxy": ["80:80", "443:443"],
    }
    assert services["proxy"]["image"].startswith("nginx:")
    assert services["proxy"]["networks"] == ["edge"]
    assert set(services["web"]["networks"]) == {"default", "edge"}


def test_compose_runs_the_job_queues_worker_on_the_apis_settings():
    services = compose_services()["services"]
    worker = services["worker"]
    assert worker["command"][:4] == ["python", "manage.py", "procrastinate", "worker"]
    assert worker["environment"] == services["migrate"]["environment"]  # the same database
    assert worker["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert worker["healthcheck"]["test"][-2:] == ["procrastinate", "healthchecks"]


def test_compose_trusts_exactly_the_proxys_network():
    compose = compose_services()
    (subnet,) = [entry["subnet"] for entry in compose["networks"]["edge"]["ipam"]["config"]]
    web_env = compose["services"]["web"]["environment"]
    assert compose_default(web_env["WAQTI_TRUSTED_PROXIES"]) == subnet
    assert parse_trusted_proxies(subnet)  # a range the server accepts at start


def test_compose_proxy_runs_the_tested_nginx_config_with_the_apis_body_limit():
    """The file tests/test_https_proxy.py runs is the one compose mounts, and nginx's body limit
    is the API's (one variable, one default: settings' own)."""
    services = compose_services()["services"]
    proxy = services["proxy"]
    assert (
        "./deploy/nginx/waqti.conf.template:/etc/nginx/templates/default.conf.template:ro"
        in proxy["volumes"]
    )
    assert "./deploy/tls:/etc/nginx/tls:ro" in proxy["volumes"]
    for env in (proxy["environment"], services["web"]["environment"]):
        assert compose_default(env["WAQTI_MAX_BODY_BYTES"]) == str(
            settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
    assert proxy["environment"]["NGINX_ENVSUBST_FILTER"] == "WAQTI_"
    template = (ROOT / "deploy" / "nginx" / "waqti.conf.template").read_text()
    assert "client_max_body_size ${WAQTI_MAX_BODY_BYTES};" in template
    assert set(re.findall(r"\$\{(\w+)\}", template)) == {"WAQTI_MAX_BODY_BYTES"}
    assert "deploy/tls/" in (ROOT / ".dockerignore").read_text().split()
