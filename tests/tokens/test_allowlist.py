"""The allowlist's parser and check (``tokens.allowlist``): one spelling per range, strict input."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokens import allowlist
from tokens.models import ApiToken

ipv4_networks = st.builds(
    lambda address, prefix: ipaddress.ip_network(f"{address}/{prefix}", strict=False),
    st.ip_addresses(v=4),
    st.integers(0, 32),
)
ipv6_networks = st.builds(
    lambda address, prefix: ipaddress.ip_network(f"{address}/{prefix}", strict=False),
    st.ip_addresses(v=6),
    st.integers(0, 128),
)


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("10.0.0.5", "10.0.0.5/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        (" 192.0.2.0/24\t", "192.0.2.0/24"),
        ("1.2.3.4/032", "1.2.3.4/32"),
        ("2001:DB8::1", "2001:db8::1/128"),
        ("2001:0db8:0000::/32", "2001:db8::/32"),
        ("::ffff:10.0.0.5", "10.0.0.5/32"),
        ("::ffff:10.0.0.0/120", "10.0.0.0/24"),
        ("::ffff:0:0/96", "0.0.0.0/0"),
        ("::1", "::1/128"),
        ("0.0.0.0/0", "0.0.0.0/0"),
    ],
)
def test_normalize_entry_gives_one_spelling(entry, canonical):
    assert allowlist.normalize_entry(entry) == canonical


@pytest.mark.parametrize(
    "entry",
    [
        "",
        " ",
        "10.0.0.5/24",  # host bits set: refused, not widened
        "2001:db8::1/32",
        "10.0.0.0/255.0.0.0",  # netmask instead of a prefix length
        "10.0.0.0/0.0.0.255",
        "10.0.0.0/+8",
        "10.0.0.0/ 8",
        "10.0.0.0/0008",
        "10.0.0.0/33",
        "::/129",
        "fe80::1%eth0",
        "010.0.0.1",
        "1.2.3",
        "10.0.0.1:80",
        "[::1]",
        "host.example",
        "\u0661\u0660.0.0.1",
        "10.0.0.1\x00",
        "1" * 65,
    ],
)
def test_normalize_entry_refuses(entry):
    with pytest.raises(allowlist.InvalidEntry):
        allowlist.normalize_entry(entry)


def test_suggestions_for_host_bits():
    assert allowlist.suggestions("10.0.0.5/24") == ("10.0.0.0/24", "10.0.0.5/32")
    assert allowlist.suggestions("2001:db8::1/32") == ("2001:db8::/32", "2001:db8::1/128")
    assert allowlist.suggestions("garbage") is None


def test_normalize_allowlist_drops_duplicates_in_order():
    entries = ["10.0.0.1", "::1", "10.0.0.1/32", "::ffff:10.0.0.1"]
    assert allowlist.normalize_allowlist(entries) == ["10.0.0.1/32", "::1/128"]


@given(st.one_of(ipv4_networks, ipv6_networks))
def test_normalize_is_idempotent_and_keeps_the_range(network):
    canonical = allowlist.normalize_entry(network.compressed)
    assert allowlist.normalize_entry(canonical) == canonical
    expected = network
    mapped = getattr(network.network_address, "ipv4_mapped", None)
    if mapped is not None and network.prefixlen >= 96:  # IPv4-mapped IPv6 is stored as IPv4
        expected = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    assert ipaddress.ip_network(canonical) == expected


@given(st.lists(st.one_of(ipv4_networks, ipv6_networks), max_size=12), st.ip_addresses())
def test_permits_is_plain_containment(networks, address):
    entries = tuple(allowlist.normalize_allowlist([n.compressed for n in networks]))
    compiled = allowlist.compile_allowlist(entries)
    expected = not entries or any(address in ipaddress.ip_network(e) for e in entries)
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:  # the client address arrives folded to IPv4 (waqti.client_ip)
        expected = not entries or any(mapped in ipaddress.ip_network(e) for e in entries)
    assert allowlist.permits(compiled, str(address)) is expected


def test_permits_refuses_an_unreadable_client_unless_the_list_is_empty():
    assert allowlist.permits(allowlist.compile_allowlist(()), "0.0.0.0")  # noqa: S104 - waqti.client_ip.UNKNOWN
    assert allowlist.permits(allowlist.compile_allowlist(()), "garbage")
    assert not allowlist.permits(allowlist.compile_allowlist(("10.0.0.0/8",)), "garbage")


def test_model_check_uses_the_stored_list():
    token = ApiToken(allowed_ips=["192.0.2.0/24", "2001:db8::/32"])
    assert token.permits_address("192.0.2.9")
    assert token.permits_address("::ffff:192.0.2.9")
    assert token.permits_address("2001:db8::7")
    assert not token.permits_address("198.51.100.1")
    assert ApiToken(allowed_ips=[]).permits_address("198.51.100.1")
