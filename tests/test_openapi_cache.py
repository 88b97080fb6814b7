"""``/api/v1/schema/`` is built once per process and language, then served with a strong ETag."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView

from waqti.api.docs import SchemaView

SCHEMA = "/api/v1/schema/"
JSON_TYPE = "application/vnd.oai.openapi+json"
YAML_TYPE = "application/vnd.oai.openapi; charset=utf-8"


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The languages the schema was generated in, counted by wrapping the public generator."""
    SchemaView.clear_cache()
    calls: list[str] = []

    class CountingGenerator(SchemaView.generator_class):  # type: ignore[name-defined,misc]
        def get_schema(self, request: Any = None, public: bool = False) -> Any:
            calls.append(translation.get_language())
            return super().get_schema(request=request, public=public)

    monkeypatch.setattr(SchemaView, "generator_class", CountingGenerator)
    yield calls
    SchemaView.clear_cache()


def test_second_request_does_not_regenerate(db, api, acme, builds):
    first = api(acme).get(SCHEMA)
    second = api(acme).get(SCHEMA)
    assert (first.status_code, second.status_code) == (200, 200)
    assert builds == ["en"]
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]


def test_etag_is_strong_and_headers_suit_a_public_document(db, api, acme, builds):
    response = api(acme).get(SCHEMA)
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 66  # SHA-256, not W/
    assert response["Content-Type"] == JSON_TYPE
    assert response["Content-Disposition"] == 'inline; filename="Waqti API.json"'
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Content-Language"] == "en"
    vary = {name.strip() for name in response["Vary"].split(",")}
    assert {"Accept", "Accept-Language", "Cookie"} <= vary
    assert response.json()["info"]["title"] == "Waqti API"


@pytest.mark.parametrize("if_none_match", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_answers_304_without_a_body(db, api, acme, builds, if_none_match):
    etag = api(acme).get(SCHEMA)["ETag"]
    response = api(acme).get(SCHEMA, headers={"If-None-Match": if_none_match.format(etag=etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response["Vary"]
    assert builds == ["en"]


def test_a_stale_etag_gets_the_document(db, api, acme, builds):
    response = api(acme).get(SCHEMA, headers={"If-None-Match": '"0123"'})
    assert response.status_code == 200
    assert response.content.startswith(b"{")


def test_each_language_is_built_once_and_cached_apart(db, api, acme, builds):
    english = api(acme).get(SCHEMA)
    arabic = api(acme).get(SCHEMA, headers={"Accept-Language": "ar"})
    assert arabic["Content-Language"] == "ar"
    assert arabic.content != english.content
    assert "مسودة" in arabic.content.decode()  # a translated enum label
    assert arabic["ETag"] != english["ETag"]
    by_query = api(acme).get(SCHEMA + "?lang=ar", headers={"Accept-Language": "en"})
    assert (by_query.content, by_query["ETag"]) == (arabic.content, arabic["ETag"])
    assert by_query["Content-Language"] == "ar"
    assert api(acme).get(SCHEMA, headers={"Accept-Language": "ar-SA"})["ETag"] == arabic["ETag"]
    assert builds == ["en", "ar"]


@pytest.mark.parametrize("lang", ["xx", "xx-" + "x" * 600, "../../etc", "\x00"])
def test_an_unknown_language_builds_nothing_new(db, api, acme, builds, lang):
    english = api(acme).get(SCHEMA)
    response = api(acme).get(SCHEMA, lang=lang)
    assert response.status_code == 200
    assert response["ETag"] == english["ETag"]
    assert builds == ["en"]


def test_each_format_is_rendered_from_the_one_document(db, api, acme, builds):
    as_json = api(acme).get(SCHEMA, format="json")
    as_yaml = api(acme).get(SCHEMA, format="yaml")
    assert as_json["Content-Type"] == JSON_TYPE
    assert as_yaml["Content-Type"] == YAML_TYPE
    assert as_yaml["Content-Disposition"] == 'inline; filename="Waqti API.yaml"'
    assert as_yaml.content.startswith(b"openapi: 3.")
    assert as_json["ETag"] != as_yaml["ETag"]
    plain_json = api(acme).get(SCHEMA, headers={"Accept": "application/json"})
    assert plain_json["Content-Type"] == "application/json"
    assert plain_json.content == as_json.content
    assert plain_json["ETag"] != as_json["ETag"]  # another representation, another tag
    again = api(acme).get(SCHEMA, format="yaml")
    assert (again.content, again["ETag"]) == (as_yaml.content, as_yaml["ETag"])
    assert builds == ["en"]


def test_json_indent_is_honoured_per_request(db, api, acme, builds):
    default = api(acme).get(SCHEMA)
    narrow = api(acme).get(SCHEMA, headers={"Accept": "application/json; indent=1"})
    assert b'\n    "openapi"' in default.content
    assert b'\n "openapi"' in narrow.content
    assert narrow["ETag"] != default["ETag"]
    assert builds == ["en"]


def test_every_tenant_host_gets_the_same_document(db, api, acme, globex, builds):
    assert api(acme).get(SCHEMA)["ETag"] == api(globex).get(SCHEMA)["ETag"]
    assert builds == ["en"]


def test_head_carries_the_same_validator(db, api, acme, builds):
    etag = api(acme).get(SCHEMA)["ETag"]
    response = api(acme).client.head(SCHEMA, HTTP_HOST="acme.localhost")
    assert response.status_code == 200
    assert response["ETag"] == etag


class PlainSchemaView(SpectacularAPIView):
    """drf-spectacular's own view, configured as ours, with no caching."""

    authentication_classes = SchemaView.authentication_classes
    permission_classes = SchemaView.permission_classes
    renderer_classes = SchemaView.renderer_classes
    urlconf = SchemaView.urlconf


@pytest.mark.parametrize(
    ("query", "accept_language"),
    [({}, "en"), ({"format": "yaml"}, "en"), ({}, "ar"), ({"format": "yaml", "lang": "ar"}, "en")],
)
def test_cached_bytes_equal_drf_spectacular_s_own(db, api, acme, builds, query, accept_language):
    ours = api(acme).get(SCHEMA, headers={"Accept-Language": accept_language}, **query)
    request = RequestFactory().get(
        SCHEMA, query, HTTP_HOST="acme.localhost", HTTP_ACCEPT_LANGUAGE=accept_language
    )
    with translation.override(accept_language):
        plain = PlainSchemaView.as_view()(request)
        plain.render()
    assert ours.status_code == plain.status_code == 200
    assert ours.content == plain.content
    assert ours["Content-Type"] == plain["Content-Type"]
    assert ours["Content-Disposition"] == plain["Content-Disposition"]
