"""The client's IP address: REMOTE_ADDR, or a trusted proxy's header when one is configured."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """``settings.WAQTI_CLIENT_IP_HEADER`` (e.g. ``HTTP_X_FORWARDED_FOR``) is honoured only when
    set; its last entry is the address the trusted proxy saw."""
    header = getattr(settings, "WAQTI_CLIENT_IP_HEADER", None)
    candidates = []
    if header:
        raw = request.META.get(header, "")
        if raw:
            candidates.append(raw.split(",")[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return "0.0.0.0"  # noqa: S104 - a label for "unknown", never bound
