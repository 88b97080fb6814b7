"""Unit tests of the pure token functions: generate, format, parse, hash, verify."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokens import secrets
from tokens.abilities import grants_all, has_ability, normalize_abilities
from tokens.secrets import MalformedToken, parse_bearer

GOOD_SECRET = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0"


def test_generate_secret_has_40_alphanumerics_and_varies():
    values = {secrets.generate_secret() for _ in range(50)}
    assert len(values) == 50
    assert all(len(v) == 40 and v.isascii() and v.isalnum() for v in values)


def test_parse_bearer_accepts_the_seed_example_and_any_scheme_case():
    assert parse_bearer(f"Bearer 3|{GOOD_SECRET}") == (3, GOOD_SECRET)
    assert parse_bearer(f"bearer 3|{GOOD_SECRET}") == (3, GOOD_SECRET)
    assert parse_bearer(f"BEARER 9223372036854775807|{GOOD_SECRET}")[0] == 2**63 - 1


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Basic 3|{GOOD_SECRET}",
        f"Token 3|{GOOD_SECRET}",
        f"Bearer  3|{GOOD_SECRET}",
        f" Bearer 3|{GOOD_SECRET}",
        f"Bearer 3|{GOOD_SECRET} ",
        f"Bearer 3{GOOD_SECRET}",
        f"Bearer |{GOOD_SECRET}",
        "Bearer 3|",
        f"Bearer abc|{GOOD_SECRET}",
        f"Bearer -3|{GOOD_SECRET}",
        f"Bearer +3|{GOOD_SECRET}",
        f"Bearer 03|{GOOD_SECRET}",
        f"Bearer 0|{GOOD_SECRET}",
        f"Bearer 9223372036854775808|{GOOD_SECRET}",
        f"Bearer 99999999999999999999999|{GOOD_SECRET}",
        f"Bearer 3|{GOOD_SECRET[:-1]}",
        f"Bearer 3|{GOOD_SECRET}x",
        f"Bearer 3|{GOOD_SECRET[:-1]}-",
        f"Bearer 3|{GOOD_SECRET[:-1]}é",
        f"Bearer \uff13|{GOOD_SECRET}",  # fullwidth digit three
        f"Bearer 3|{GOOD_SECRET[:-1]}\x00",
        f"Bearer 3|{GOOD_SECRET}|{GOOD_SECRET}",
        "Bearer " + "9" * 8192,
    ],
)
def test_parse_bearer_rejects_malformed_headers(header):
    with pytest.raises(MalformedToken):
        parse_bearer(header)


@given(st.text(max_size=300))
def test_parse_bearer_raises_only_malformed_token_on_any_text(header):
    try:
        token_id, secret = parse_bearer(header)
    except MalformedToken:
        return
    assert 1 <= token_id <= 2**63 - 1
    assert len(secret) == 40


@given(st.binary(max_size=200))
def test_parse_bearer_survives_any_bytes_decoded_as_latin1(raw):
    with contextlib.suppress(MalformedToken):
        parse_bearer(raw.decode("latin-1"))


def test_hash_is_peppered_hmac_and_verification_is_exact(settings):
    digest = secrets.hash_secret(GOOD_SECRET)
    assert len(digest) == 64 and GOOD_SECRET not in digest
    assert secrets.secret_matches(GOOD_SECRET, digest)
    assert not secrets.secret_matches(GOOD_SECRET.upper(), digest)
    assert not secrets.secret_matches(GOOD_SECRET, "")
    settings.WAQTI_TOKEN_PEPPER = "another-pepper"
    assert secrets.hash_secret(GOOD_SECRET) != digest


def test_admin_implies_every_ability_and_nothing_else_does():
    assert has_ability(["admin"], "approve")
    assert has_ability(["read", "write"], "write")
    assert not has_ability(["read", "write"], "delete")
    assert grants_all(["admin"], ["read", "write", "delete", "approve", "admin"])
    assert not grants_all(["read", "write"], ["read", "approve"])


def test_normalize_abilities_folds_duplicates_in_seed_order():
    assert normalize_abilities(["write", "read", "write"]) == ["read", "write"]
