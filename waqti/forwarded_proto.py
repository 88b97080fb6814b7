"""``X-Forwarded-Proto`` is believed only from WAQTI_TRUSTED_PROXIES: anyone else's is dropped."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from waqti.client_ip import is_trusted_proxy


class TrustedForwardedProtoMiddleware:
    """Removes the ``SECURE_PROXY_SSL_HEADER`` header from ``request.META`` unless the request
    came from a trusted proxy (``waqti.client_ip``, the same ranges that vouch for
    ``X-Forwarded-For``).

    Django believes that header from any client: a client reaching the server directly could
    otherwise send ``X-Forwarded-Proto: https`` over plain HTTP and be served as if on HTTPS (no
    redirect, secure cookies handed out in clear). Without the header Django falls back to the
    connection's own scheme (``wsgi.url_scheme``; gunicorn is told to trust no forwarding header
    itself, ``waqti/gunicorn_conf.py``). First in ``MIDDLEWARE``, so no other middleware sees a
    header this one would drop.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.SECURE_PROXY_SSL_HEADER:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.header = settings.SECURE_PROXY_SSL_HEADER[0]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if self.header in meta and not is_trusted_proxy(
            meta.get("REMOTE_ADDR", ""), settings.WAQTI_TRUSTED_PROXIES
        ):
            del meta[self.header]
        return self.get_response(request)
