"""Client addresses behind trusted proxies: the pure rule, its properties, HTTP and start-up."""

from __future__ import annotations

import ipaddress
import os

import pytest
from django.conf import settings as django_settings
from django_tenants.utils import tenant_context
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import UNAUTHENTICATED
from tests.live_server import run_manage
from tokens.activity.buffer import buffer as activity_buffer
from tokens.models import ApiRequestLog
from waqti.client_ip import (
    UNKNOWN,
    forwarded_client,
    parse_address,
    parse_trusted_proxies,
)

PROXIES = parse_trusted_proxies("10.0.0.0/8, 192.168.1.5, 2001:db8:100::/40")

ipv4 = st.ip_addresses(v=4)
ipv6 = st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None)
any_ip = st.one_of(ipv4, ipv6)
trusted_ip = st.one_of(
    st.integers(0, 2**24 - 1).map(lambda n: ipaddress.IPv4Address(0x0A000000 + n)),
    st.just(ipaddress.IPv4Address("192.168.1.5")),
    st.integers(0, 2**88 - 1).map(
        lambda n: ipaddress.IPv6Address(int(ipaddress.IPv6Address("2001:db8:100::")) + n)
    ),
)
untrusted_ip = any_ip.filter(lambda a: not any(a in net for net in PROXIES))


def test_parse_trusted_proxies_reads_addresses_and_cidrs_of_both_families():
    assert parse_trusted_proxies("") == ()
    assert parse_trusted_proxies(" 10.0.0.0/8 ,192.168.1.5,, 2001:db8::/32 ,") == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.5/32"),
        ipaddress.ip_network("2001:db8::/32"),
    )


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or CIDR"),
        ("10.0.0.5/8", "has host bits set"),  # a typo for /32 would trust a whole /8
        ("proxy.internal", "'proxy.internal' is not an IP address or CIDR"),
        ("10.0.0.1 10.0.0.2", "is not an IP address or CIDR"),
        ("0.0.0.0/0", "would trust every address"),
        ("::/0", "would trust every address"),
        ("::ffff:10.0.0.0/104", "write it as IPv4"),
    ],
)
def test_parse_trusted_proxies_refuses_what_it_cannot_read_safely(raw, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_trusted_proxies(raw)


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7:51234", "203.0.113.7"),
        ("2001:DB8::7", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::1"),
        ("unknown", None),
        ("", None),
        ("203.0.113.7:", None),
        ("203.0.113.7:http", None),
        ("203.0.113.7:123456", None),
        ("[2001:db8::7", None),
        ("[2001:db8::7]x", None),
        ("203.0.113.256", None),
        ("\uff11.2.3.4", None),  # fullwidth digit one
        ("1" * 200, None),
    ],
)
def test_parse_address_reads_the_spellings_proxies_write(hop, expected):
    address = parse_address(hop)
    assert (None if address is None else str(address)) == expected


def test_forwarded_client_examples():
    assert forwarded_client("203.0.113.7", "1.1.1.1", PROXIES) == "203.0.113.7"  # not a proxy
    assert forwarded_client("10.0.0.2", "", PROXIES) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", "1.1.1.1, 203.0.113.7", PROXIES) == "203.0.113.7"
    chain = "1.1.1.1, 203.0.113.7, 192.168.1.5, 10.9.9.9"
    assert forwarded_client("10.0.0.2", chain, PROXIES) == "203.0.113.7"
    assert forwarded_client("10.0.0.2", "10.1.1.1, 10.2.2.2", PROXIES) == "10.1.1.1"  # all trusted
    # An unparsable hop stops the walk at the last address a trusted proxy vouched for.
    assert forwarded_client("10.0.0.2", "203.0.113.7, junk", PROXIES) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", "1.1.1.1, junk, 10.3.3.3", PROXIES) == "10.3.3.3"
    assert forwarded_client("[2001:db8:100::1]:8080", "2001:db8::99", PROXIES) == "2001:db8::99"
    assert forwarded_client("::ffff:10.0.0.2", "198.51.100.1", PROXIES) == "198.51.100.1"
    assert forwarded_client("", "198.51.100.1", PROXIES) == UNKNOWN
    assert forwarded_client("10.0.0.2", "198.51.100.1", ()) == "10.0.0.2"  # nothing trusted


@given(remote=untrusted_ip, header=st.text(max_size=200))
def test_an_untrusted_peer_is_the_client_whatever_it_sends(remote, header):
    assert forwarded_client(str(remote), header, PROXIES) == str(remote)


@given(
    junk=st.text(max_size=200),
    client=untrusted_ip,
    hops=st.lists(trusted_ip, max_size=4),
    remote=trusted_ip,
)
def test_nothing_left_of_the_first_untrusted_hop_moves_the_answer(junk, client, hops, remote):
    # What the client wrote (junk) is left of its own address, which the first proxy appended.
    header = ", ".join([junk, str(client), *map(str, hops)])
    assert forwarded_client(str(remote), header, PROXIES) == str(client)


@given(hops=st.lists(trusted_ip, min_size=1, max_size=5), remote=trusted_ip)
def test_an_all_trusted_chain_gives_its_left_most_hop(hops, remote):
    header = ", ".join(map(str, hops))
    assert forwarded_client(str(remote), header, PROXIES) == str(hops[0])


@given(remote=st.one_of(st.text(max_size=60), any_ip.map(str)), header=st.text(max_size=300))
def test_forwarded_client_never_raises_and_always_answers_an_address(remote, header):
    answer = forwarded_client(remote, header, PROXIES)
    assert str(ipaddress.ip_address(answer)) == answer  # storable in an inet column as is


def test_guard_keys_on_the_client_behind_the_proxy(db, api, acme, clock, settings):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 1
    settings.WAQTI_TRUSTED_PROXIES = parse_trusted_proxies("127.0.0.1")
    first, second = api(acme), api(acme)
    behind = {"X-Forwarded-For": "198.51.100.1"}
    assert first.get("/api/v1/me", headers=behind).status_code == 401
    assert first.get("/api/v1/me", headers=behind).status_code == 429
    # Another client behind the same proxy has its own budget, and cannot claim the first's
    # address away from it by writing into the header.
    other = {"X-Forwarded-For": "198.51.100.1, 198.51.100.2"}
    assert second.get("/api/v1/me", headers=other).json() == UNAUTHENTICATED


def test_activity_log_records_the_client_behind_the_proxy(db, api, acme, clock, settings):
    settings.WAQTI_TRUSTED_PROXIES = parse_trusted_proxies("127.0.0.0/8")
    activity_buffer.discard()
    headers = {"X-Forwarded-For": "2001:db8::5, 127.0.0.9", "X-Request-ID": "behind-proxy"}
    api(acme).get("/api/v1/me", headers=headers)
    activity_buffer.flush()
    with tenant_context(acme):
        row = ApiRequestLog.objects.get(request_id="behind-proxy")
    assert row.ip_address == "2001:db8::5"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WAQTI_"))}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(DATABASE_URL=django_settings.DATABASE_URL, **extra)
    return env


def test_trusted_proxies_come_from_the_environment():
    result = run_manage(
        _env(WAQTI_TRUSTED_PROXIES="10.0.0.0/8,2001:db8::/32"),
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(list(map(str, settings.WAQTI_TRUSTED_PROXIES)))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['10.0.0.0/8', '2001:db8::/32']"


def test_an_unreadable_trusted_proxy_list_stops_the_server_at_start():
    result = run_manage(_env(WAQTI_TRUSTED_PROXIES="10.0.0.0/8,10.0.0.5/8"), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured: WAQTI_TRUSTED_PROXIES must be comma-separated" in result.stderr
    assert "'10.0.0.5/8'" in result.stderr
