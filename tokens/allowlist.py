"""A token's IP allowlist: parsing entries into one canonical CIDR spelling, and the check.

Pure functions (no Django, no I/O), like ``tokens.secrets``. An entry is an IPv4 or IPv6 address
or CIDR; it is stored and shown as a network with its prefix length, so each range has exactly
one spelling: ``10.0.0.5`` -> ``10.0.0.5/32``, ``2001:DB8::1`` -> ``2001:db8::1/128``,
``::ffff:10.0.0.0/120`` (IPv4-mapped IPv6) -> ``10.0.0.0/24``, as PostgreSQL's ``cidr`` type
prints them. A CIDR with host bits set (``10.0.0.5/24``) is refused rather than widened: it is
usually a typo for a /32, and silently allowing 256 addresses would surprise its author.

The check (``permits``) looks the client address (``waqti.client_ip``, IPv4-mapped IPv6 already
folded to IPv4) up in the list's networks turned, once per distinct list and worker
(``compile_allowlist``), into sorted disjoint integer ranges: one binary search, whatever the
list's length. An empty list permits every address.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Ranges:
    """Disjoint, sorted ``[first, last]`` integer ranges of one IP version's networks."""

    firsts: tuple[int, ...]
    lasts: tuple[int, ...]

    @classmethod
    def of(cls, networks: list[Network]) -> Ranges:
        merged: list[list[int]] = []
        for first, last in sorted(
            (int(n.network_address), int(n.broadcast_address)) for n in networks
        ):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        return cls(tuple(r[0] for r in merged), tuple(r[1] for r in merged))

    def __contains__(self, value: int) -> bool:
        index = bisect.bisect_right(self.firsts, value) - 1
        return index >= 0 and value <= self.lasts[index]


@dataclass(frozen=True, slots=True)
class CompiledAllowlist:
    """An allowlist ready for the per-request check: a binary search per IP version."""

    v4: Ranges
    v6: Ranges
    empty: bool

    def permits(self, address: Address) -> bool:
        return self.empty or int(address) in (self.v4 if address.version == 4 else self.v6)


@functools.lru_cache(maxsize=4096)
def compile_allowlist(entries: tuple[str, ...]) -> CompiledAllowlist:
    """The stored (already canonical) list as ranges, computed once per worker and list."""
    networks = [ipaddress.ip_network(entry) for entry in entries]
    return CompiledAllowlist(
        v4=Ranges.of([n for n in networks if n.version == 4]),
        v6=Ranges.of([n for n in networks if n.version == 6]),
        empty=not networks,
    )


def permits(allowed: CompiledAllowlist, client: str | Address) -> bool:
    """Whether ``client`` (an address, or its text as ``waqti.client_ip`` gives it) is inside
    ``allowed``; an empty allowlist permits every address, an unreadable address nothing else."""
    if allowed.empty:
        return True
    address = parse_address(client) if isinstance(client, str) else client
    return address is not None and allowed.permits(address)
