"""Token secrets as pure functions: generate, format, parse, checksum, hash, verify.

A secret is the seed's 40 ``[A-Za-z0-9]``: 34 random characters, then 6 characters of checksum,
the CRC32 of the token's text before them (``{id}|{34 random}``, ASCII) in base62, most
significant digit first, zero-padded (``0-9A-Za-z``; 62**6 > 2**32). Entropy: 34 * log2(62) =
34 * 5.954 = 202.4 bits, all of it from ``secrets.choice``; the checksum adds none and hides
none (anyone can compute it, so comparing it needs no constant time).

Why: a presented secret with a wrong checksum cannot be a token we issued, so it is refused
before any lookup (``refused_by_checksum``), and secret scanners can tell a real token from
random text (a 40-character string passes by chance once in 2**32). Why the id is in the CRC
input: a checksummed secret pasted after the wrong id is garbage too, and one CRC over the
token's text is what a scanner sees.

Tokens issued before checksums (40 random characters) cannot be told apart by their text, only
by their id: ids are sequential per tenant, and each tenant records the first id issued with a
checksum (``Tenant.first_checksummed_token_id``, set by a migration to the tenant's highest id +
1, and 1 for new tenants). Only ids at or above it are refused on a wrong checksum; an older id
is always looked up (its secret may be legacy, or checksummed after a regeneration, with the
legacy one still in its grace period). Why this boundary:

* a flag per token would need the row, i.e. the lookup this avoids; a marker in the text (a
  prefix, another length) would break the seed's ``{id}|{40 [A-Za-z0-9]}``;
* on the Tenant row (public schema) it is already in memory: the per-worker tenant resolver
  holds the row, so the check costs no query and no Redis; it is set once and never changes,
  so it needs no invalidation; and a tenant schema cloned from a template (rather than
  migrated) does not carry it: a new Tenant row starts at 1;
* it is one integer per tenant, forever: legacy ids only shrink in number as they are
  regenerated (keeping their id, now checksummed, still looked up) or revoked and pruned.

``parse_bearer`` stays the tenant-agnostic syntax check (the activity log uses it to record the
id a refused request claimed); the callers that refuse (``tokens.authentication`` and
``tokens.early_refusal``) apply ``refused_by_checksum`` right after it, before the token lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib

from django.conf import settings

SECRET_LENGTH = 40
SECRET_ALPHABET = string.ascii_letters + string.digits
RANDOM_LENGTH = 34
CHECKSUM_LENGTH = SECRET_LENGTH - RANDOM_LENGTH
BASE62_DIGITS = string.digits + string.ascii_uppercase + string.ascii_lowercase
# Every pair of base62 digits, by value (0..3843): the checksum is three table lookups, not six
# divisions (it runs on every authenticated request).
_BASE62_PAIRS = tuple(high + low for high in BASE62_DIGITS for low in BASE62_DIGITS)
MAX_TOKEN_ID = 2**63 - 1  # PostgreSQL bigint
# Longest header worth parsing: "Bearer " + 19-digit id + "|" + secret, with room for case.
MAX_HEADER_LENGTH = 7 + 19 + 1 + SECRET_LENGTH
_SECRET_CHARS = frozenset(SECRET_ALPHABET)


class MalformedToken(Exception):
    """The Authorization header does not hold a well-formed ``Bearer {id}|{secret}``."""


def generate_secret(token_id: int) -> str:
    """A new secret for token ``token_id``: 34 random characters and their checksum."""
    random_part = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(RANDOM_LENGTH))
    return random_part + checksum(token_id, random_part)


def checksum(token_id: int, random_part: str) -> str:
    """Six base62 digits of the CRC32 of ``{token_id}|{random_part}``."""
    value = zlib.crc32(f"{token_id}|{random_part}".encode())
    high, value = divmod(value, 62**4)
    middle, low = divmod(value, 62**2)
    return _BASE62_PAIRS[high] + _BASE62_PAIRS[middle] + _BASE62_PAIRS[low]


def checksum_matches(token_id: int, secret: str) -> bool:
    """Whether the secret's last six characters are the checksum of its first 34."""
    return secret[RANDOM_LENGTH:] == checksum(token_id, secret[:RANDOM_LENGTH])


def refused_by_checksum(token_id: int, secret: str, first_checksummed_id: int) -> bool:
    """Whether ``{token_id}|{secret}`` is refused without a lookup: its id was issued with a
    checksum (at or above the tenant's ``first_checksummed_id``) and the checksum is wrong. An
    older id is never refused here: its secret may predate checksums."""
    return token_id >= first_checksummed_id and not checksum_matches(token_id, secret)


def format_token(token_id: int, secret: str) -> str:
    return f"{token_id}|{secret}"


def hash_secret(secret: str, pepper: str | None = None) -> str:
    """HMAC-SHA256 of the secret with ``pepper`` (default: the server's current pepper), hex."""
    key = (settings.WAQTI_TOKEN_PEPPER if pepper is None else pepper).encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented secret with a hash made under the current pepper."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def secret_matches_fallback(secret: str, stored_hash: str | None) -> bool:
    """Whether ``stored_hash`` is the secret's hash under one of the previous peppers
    (``settings.WAQTI_TOKEN_PEPPER_FALLBACKS``, i.e. ``SECRET_KEY_FALLBACKS``); constant-time per
    pepper, and no HMAC at all when there are none."""
    if not stored_hash:
        return False
    return any(
        hmac.compare_digest(hash_secret(secret, pepper), stored_hash)
        for pepper in settings.WAQTI_TOKEN_PEPPER_FALLBACKS
    )


def parse_bearer(header: str | None) -> tuple[int, str]:
    """Split ``Bearer {id}|{secret}`` into ``(id, secret)`` or raise MalformedToken.

    Strict: exactly one space after the scheme word (case-insensitive), an id of ASCII digits
    within bigint range without a sign or leading zero, a secret of exactly 40 ``[A-Za-z0-9]``.
    """
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise MalformedToken
    scheme, sep, credentials = header.partition(" ")
    if not sep or scheme.lower() != "bearer":
        raise MalformedToken
    id_part, sep, secret = credentials.partition("|")
    if not sep:
        raise MalformedToken
    if not (id_part.isascii() and id_part.isdigit()) or id_part.startswith("0"):
        raise MalformedToken
    token_id = int(id_part)
    if token_id > MAX_TOKEN_ID:
        raise MalformedToken
    if len(secret) != SECRET_LENGTH or not _SECRET_CHARS.issuperset(secret):
        raise MalformedToken
    return token_id, secret
