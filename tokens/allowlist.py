"""A token's IP allowlist: parsing entries into one canonical CIDR spelling, and the check.

Pure functions (no Django, no I/O), like ``tokens.secrets``. An entry is an IPv4 or IPv6 address
or CIDR; it is stored and shown as a network with its prefix length, so each range has exactly
one spelling: ``10.0.0.5`` -> ``10.0.0.5/32``, ``2001:DB8::1`` -> ``2001:db8::1/128``,
``::ffff:10.0.0.0/120`` (IPv4-mapped IPv6) -> ``10.0.0.0/24``, as PostgreSQL's ``cidr`` type
prints them. A CIDR with host bits set (``10.0.0.5/24``) is refused rather than widened: it is
usually a typo for a /32, and silently allowing 256 addresses would surprise its author.

The check (``permits``) compares the client address (``waqti.client_ip``, IPv4-mapped IPv6
already folded to IPv4) with networks parsed once per distinct list and worker
(``compile_allowlist``); an empty list permits every address.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from waqti.client_ip import Address, Network, parse_address

MAX_ENTRIES = 50
# Longer than any spelling accepted below ("ffff:...:255.255.255.255/128" is 49); longer text is
# refused before it is parsed.
MAX_ENTRY_LENGTH = 64


class InvalidEntry(ValueError):
    """An allowlist entry that is not an address or CIDR; ``str()`` says why, in English (the
    serializers translate their own message)."""


def parse_entry(text: str) -> Network:
    """One entry as a network: ``1.2.3.4``, ``1.2.3.4/24``, ``2001:db8::/32``,
    ``::ffff:1.2.3.4`` (read as IPv4); surrounding spaces are ignored. Raises InvalidEntry for
    anything else: a netmask instead of a prefix length, an IPv6 zone (``%eth0``), host bits set.
    """
    text = text.strip()
    if not text or len(text) > MAX_ENTRY_LENGTH or not text.isascii() or "%" in text:
        raise InvalidEntry("not an IP address or CIDR")
    _, slash, prefix = text.partition("/")
    if slash and not (prefix.isdigit() and len(prefix) <= 3):
        raise InvalidEntry("the prefix length must be a number")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            raise InvalidEntry("host bits set") from None
        raise InvalidEntry("not an IP address or CIDR") from None
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def normalize_entry(text: str) -> str:
    """The canonical spelling of one entry (see ``parse_entry``)."""
    return parse_entry(text).compressed


def normalize_allowlist(entries: Sequence[str]) -> list[str]:
    """Canonical spellings in the given order, duplicates (after normalising) dropped."""
    return list(dict.fromkeys(normalize_entry(entry) for entry in entries))


def suggestions(text: str) -> tuple[str, str] | None:
    """For an entry with host bits set, the network it lies in and the single address it names
    (``10.0.0.5/24`` -> ``10.0.0.0/24``, ``10.0.0.5/32``); None otherwise."""
    try:
        interface = ipaddress.ip_interface(text.strip())
    except ValueError:
        return None
    single = ipaddress.ip_network(interface.ip)
    return interface.network.compressed, single.compressed


@functools.lru_cache(maxsize=4096)
def compile_allowlist(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of a stored (already canonical) list, parsed once per worker."""
    return tuple(ipaddress.ip_network(entry) for entry in entries)


def permits(networks: Sequence[Network], client: str | Address) -> bool:
    """Whether ``client`` (an address, or its text as ``waqti.client_ip`` gives it) is inside one
    of ``networks``; an empty allowlist permits every address, an unreadable one none."""
    if not networks:
        return True
    address = parse_address(client) if isinstance(client, str) else client
    return address is not None and any(address in network for network in networks)
