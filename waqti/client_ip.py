"""The client's IP address: REMOTE_ADDR, or the nearest untrusted X-Forwarded-For hop behind it."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "0.0.0.0"  # noqa: S104 - a label for "no usable address", never bound


def parse_trusted_proxies(raw: str) -> tuple[Network, ...]:
    """``WAQTI_TRUSTED_PROXIES``: comma-separated addresses or CIDRs (IPv4 and IPv6).

    Raises ValueError naming the bad entry. Strict on purpose: host bits set (``10.0.0.5/8``,
    probably a typo for a /32), a /0 (would let any client choose its address) and IPv4-mapped
    IPv6 ranges (write them as IPv4; addresses are compared in that form) are refused.
    Empty entries (a trailing comma) are ignored.
    """
    networks: list[Network] = []
    for entry in (item.strip() for item in raw.split(",")):
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not an IP address or CIDR ({exc})") from None
        if network.prefixlen == 0:
            raise ValueError(f"{entry!r} would trust every address")
        if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped:
            raise ValueError(f"{entry!r} is an IPv4-mapped range; write it as IPv4")
        networks.append(network)
    return tuple(networks)


# Longer than any spelling parse_address accepts; such text is refused before it is cached.
MAX_HOP_LENGTH = 100


def parse_address(text: str) -> Address | None:
    """One hop as proxies write it: ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1``,
    ``[2001:db8::1]`` or ``[2001:db8::1]:443``; None if it is anything else.

    IPv4-mapped IPv6 becomes IPv4 and an IPv6 zone (``%eth0``) is dropped, so one client has one
    spelling (it keys the per-IP guard and is stored in ``inet`` columns).
    """
    text = text.strip()
    return None if len(text) > MAX_HOP_LENGTH else _parse_hop(text)


@functools.lru_cache(maxsize=8192)  # bounded: at most MAX_HOP_LENGTH characters per entry
def _parse_hop(text: str) -> Address | None:
    if text.startswith("["):
        text, sep, port = text[1:].partition("]")
        if not sep or (port and not (port[:1] == ":" and _is_port(port[1:]))):
            return None
    elif text.count(":") == 1:  # IPv4 with a port (an IPv6 address has at least two colons)
        text, _, port = text.partition(":")
        if not _is_port(port):
            return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(address.packed)
    return address


def _is_port(text: str) -> bool:
    return 0 < len(text) <= 5 and text.isascii() and text.isdigit()


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def is_trusted_proxy(remote_addr: str, trusted: tuple[Network, ...]) -> bool:
    """Whether a connection from ``remote_addr`` came from a proxy in the ``trusted`` ranges;
    False for an unparsable address."""
    address = parse_address(remote_addr)
    return address is not None and _trusted(address, trusted)


def forwarded_client(remote_addr: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The client address of a request that arrived from ``remote_addr`` carrying
    ``X-Forwarded-For: forwarded_for``, given the ``trusted`` proxy ranges.

    The rule: REMOTE_ADDR is the client unless it is in a trusted range; then walk
    X-Forwarded-For from the right (each proxy appends the address it saw) and take the first
    address that is not in a trusted range; if every hop is trusted, the left-most one. Only
    trusted proxies vouch for what is on their left, so nothing a client writes into the header
    can move the answer past the first untrusted hop.

    An unparsable hop ends the walk: the answer is the last address a trusted proxy vouched for
    (the trusted hop right of it, possibly REMOTE_ADDR itself). The text left of it cannot be
    trusted and cannot be read, and picking anything further left would let a client that
    controls that text choose its address. An unparsable REMOTE_ADDR (e.g. a Unix socket) is
    ``0.0.0.0`` and the header is not read.

    Why not django-ipware / python-ipware: their trusted-proxy model is positional — a
    ``proxy_count``, or a ``proxy_list`` whose entries (prefix strings; CIDRs only in python-ipware
    4.x) are matched one-to-one against the last hops, so the number of proxies is fixed — and
    REMOTE_ADDR is just one more candidate after the headers, with globally routable addresses
    preferred. "Any number of hops inside these ranges, REMOTE_ADDR first, right-most untrusted
    wins" cannot be expressed with it, and the rule is these twenty lines.
    """
    client = parse_address(remote_addr)
    if client is None:
        return UNKNOWN
    if not trusted or not _trusted(client, trusted) or not forwarded_for:
        return str(client)
    for hop in reversed(forwarded_for.split(",")):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)


class HasMeta(Protocol):
    """Django's HttpRequest, or DRF's Request (which reads the same ``META``)."""

    META: Mapping[str, Any]


def client_ip(request: HasMeta) -> str:
    """The request's client address under ``settings.WAQTI_TRUSTED_PROXIES``
    (see ``forwarded_client``); ``0.0.0.0`` when there is no usable address."""
    meta = request.META
    return forwarded_client(
        meta.get("REMOTE_ADDR", ""),
        meta.get("HTTP_X_FORWARDED_FOR", ""),
        settings.WAQTI_TRUSTED_PROXIES,
    )
