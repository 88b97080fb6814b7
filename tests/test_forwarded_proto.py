"""X-Forwarded-Proto is believed only from WAQTI_TRUSTED_PROXIES (waqti/forwarded_proto.py).

A client reaching the server directly cannot claim HTTPS: with SECURE_SSL_REDIRECT it is still
redirected and gets no HSTS; the same header from a trusted proxy makes the request secure.
The live counterpart, through nginx and the shipped gunicorn settings, is
tests/test_https_proxy.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tenancy.models import Tenant
from tests.helpers import UNAUTHENTICATED
from waqti.client_ip import is_trusted_proxy, parse_trusted_proxies

PROXIES = "10.0.0.0/8,2001:db8:100::/48"
HSTS = "max-age=31536000; includeSubDomains; preload"


@pytest.fixture
def production_https(settings: Any) -> None:
    """What DJANGO_DEBUG=0 sets: redirect to HTTPS, HSTS on secure answers; one trusted range."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.WAQTI_TRUSTED_PROXIES = parse_trusted_proxies(PROXIES)


def get_me(remote_addr: str, **headers: str) -> Any:
    return Client().get(
        "/api/v1/me", HTTP_HOST="acme.localhost", REMOTE_ADDR=remote_addr, headers=headers
    )


@pytest.mark.parametrize("remote_addr", ["203.0.113.9", "127.0.0.1", "2001:db8:200::1", "junk"])
def test_a_direct_client_claiming_https_is_redirected_without_hsts(
    acme: Tenant, production_https: None, remote_addr: str
):
    response = get_me(remote_addr, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 301
    assert response["Location"] == "https://acme.localhost/api/v1/me"
    assert "Strict-Transport-Security" not in response


@pytest.mark.parametrize("remote_addr", ["10.1.2.3", "2001:db8:100::7", "::ffff:10.9.9.9"])
def test_a_trusted_proxy_saying_https_makes_the_request_secure(
    acme: Tenant, production_https: None, remote_addr: str
):
    response = get_me(remote_addr, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert response["Strict-Transport-Security"] == HSTS


def test_a_trusted_proxy_saying_http_or_nothing_is_redirected(acme: Tenant, production_https: None):
    for headers in ({"X-Forwarded-Proto": "http"}, {}):
        response = get_me("10.1.2.3", **headers)
        assert response.status_code == 301, headers
        assert response["Location"] == "https://acme.localhost/api/v1/me"


def test_no_trusted_proxy_configured_means_nobody_is_believed(
    acme: Tenant, production_https: None, settings: Any
):
    settings.WAQTI_TRUSTED_PROXIES = ()
    response = get_me("10.1.2.3", **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 301


def test_a_secure_connection_stays_secure_without_any_header(acme: Tenant, production_https: None):
    """Dropping the header falls back to the connection's own scheme, never to plain HTTP."""
    response = Client().get(
        "/api/v1/me", HTTP_HOST="acme.localhost", REMOTE_ADDR="203.0.113.9", secure=True
    )
    assert response.status_code == 401
    assert response["Strict-Transport-Security"] == HSTS


def test_is_trusted_proxy():
    trusted = parse_trusted_proxies(PROXIES)
    assert is_trusted_proxy("10.255.0.1", trusted)
    assert is_trusted_proxy("[2001:db8:100::1]:443", trusted)
    assert is_trusted_proxy("::ffff:10.0.0.1", trusted)
    assert not is_trusted_proxy("11.0.0.1", trusted)
    assert not is_trusted_proxy("", trusted)
    assert not is_trusted_proxy("unix:/run/gunicorn.sock", trusted)
    assert not is_trusted_proxy("10.0.0.1", ())
