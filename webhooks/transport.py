"""One HTTP POST to a subscriber, safe to aim at any URL a tenant typed.

* **Where it connects.** The host is resolved here and every address it resolves to must be
  public (``ipaddress``'s ``is_global``): loopback, private, link-local (the cloud metadata
  service at 169.254.169.254), shared, multicast and reserved ranges are refused, IPv4-mapped
  IPv6 included. The socket connects to the address that was checked, never to the name again,
  so a DNS answer that changes between the check and the connection (rebinding) cannot move it.
  ``WAQTI_WEBHOOKS_ALLOW_LOOPBACK`` also admits loopback addresses (tests, development).
* **How.** HTTPS with certificate and host-name verification against the URL's host (plain HTTP
  only with ``DEBUG``), ``WAQTI_WEBHOOK_TIMEOUT_SECONDS`` (10) to connect and per read, no
  redirect followed (a 3xx is a
  failed attempt), at most ``MAX_RESPONSE_BYTES`` of the answer read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_RESPONSE_BYTES = 4096
USER_AGENT = "Waqti-Webhooks/1"


class Refused(Exception):
    """The URL may not be delivered to (scheme, host or address); the message says why."""


@dataclass(frozen=True)
class Answer:
    status: int
    duration_ms: float
    body: bytes


def allowed_address(address: str) -> bool:
    """Whether webhooks may connect to ``address`` (an IPv4 or IPv6 literal)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return bool(settings.WAQTI_WEBHOOKS_ALLOW_LOOPBACK)
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a deliverable URL, before any DNS; ``Refused`` otherwise."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.DEBUG):
        raise Refused(_("Only https:// URLs can receive webhooks."))
    if not parts.hostname or parts.username or parts.password:
        raise Refused(_("The URL needs a host name, without user or password."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise Refused(_("The URL's port is not a number between 0 and 65535.")) from exc
    return scheme, parts.hostname, port


def resolve(host: str, port: int) -> str:
    """The first address of ``host``, if every address it has is allowed; ``Refused`` if not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve.") from exc
    addresses = [info[4][0] for info in infos]
    refused = sorted({a for a in addresses if not allowed_address(a)})
    if refused or not addresses:
        raise Refused(f"{host} resolves to an address webhooks may not reach ({refused[0]}).")
    return addresses[0]


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to ``address`` for ``host``: TLS verified against ``host``."""

    def __init__(self, host: str, port: int, address: str, tls: bool) -> None:
        super().__init__(host, port, timeout=settings.WAQTI_WEBHOOK_TIMEOUT_SECONDS)
        self.address = address
        self.tls = tls

    def connect(self) -> None:
        sock = socket.create_connection(
            (self.address, self.port), timeout=settings.WAQTI_WEBHOOK_TIMEOUT_SECONDS
        )
        if self.tls:
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url``; ``Refused`` before connecting, ``OSError`` (timeouts, TLS and
    connection errors) or ``http.client.HTTPException`` while talking."""
    scheme, host, port = check_url(url)
    address = resolve(host, port)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _PinnedConnection(host, port, address, tls=scheme == "https")
    started = time.perf_counter()
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        response = connection.getresponse()
        read = response.read(MAX_RESPONSE_BYTES)
        return Answer(response.status, (time.perf_counter() - started) * 1000, read)
    finally:
        connection.close()
