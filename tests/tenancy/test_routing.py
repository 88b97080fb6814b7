"""Host routing, tenant isolation, health and the shared error envelope."""

from __future__ import annotations

from unittest import mock

from django_tenants.utils import tenant_context

from tests.helpers import issue_token
from tokens.models import ApiToken


def test_unknown_host_answers_json_404(db, api):
    response = api("nowhere.localhost").get("/api/v1/me")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "message": "Not found.",
        "errors": {"host": ["No tenant is served at 'nowhere.localhost'."]},
    }
    assert response["X-Request-ID"]


def test_disallowed_host_answers_json_404(db, api):
    response = api("evil.example.com").get("/health")
    assert response.status_code == 404
    assert response.json()["message"] == "Not found."


def test_health_reports_database_and_cache_on_any_host(db, api, acme):
    for host in ("localhost", "acme.localhost"):
        response = api(host).get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_health_reports_cache_down_with_503(db, api):
    with mock.patch("waqti.health.cache") as broken:
        broken.set.side_effect = ConnectionError("down")
        response = api("localhost").get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error"}


def test_public_host_has_no_api(db, api):
    response = api("localhost").get("/api/v1/me")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": {}}


def test_token_row_of_one_tenant_is_invisible_from_another(db, api, acme, globex):
    issue_token(acme, ["admin"], name="Acme only")
    globex_admin = issue_token(globex, ["admin"], name="Globex admin")
    listed = api(globex, globex_admin).get("/api/v1/tokens").json()["data"]
    assert [t["name"] for t in listed] == ["Globex admin"]
    with tenant_context(acme):
        assert ApiToken.objects.filter(name="Globex admin").count() == 0


def test_request_id_is_echoed_when_given_and_generated_otherwise(db, api):
    given = api("localhost").get("/health", headers={"X-Request-ID": "erp-42.retry:1"})
    assert given["X-Request-ID"] == "erp-42.retry:1"
    generated = api("localhost").get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated["X-Request-ID"]) == 32


def test_malformed_json_is_400_with_envelope(db, api, acme):
    token = issue_token(acme, ["admin"])
    response = api(acme, token).post("/api/v1/tokens", raw="{not json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Malformed request body."
    assert list(body["errors"]) == ["body"]


def test_wrong_method_is_405_with_envelope(db, api, acme):
    token = issue_token(acme, ["admin"])
    response = api(acme, token).put("/api/v1/me", {})
    assert response.status_code == 405
    assert response.json() == {
        "message": "Method not allowed.",
        "errors": {"method": ["PUT is not allowed on this resource."]},
    }


def test_unknown_path_on_tenant_host_is_json_404(db, api, acme):
    response = api(acme).get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": {}}
