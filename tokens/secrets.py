"""Token secrets as pure functions: generate, format, parse, hash, verify."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from django.conf import settings

SECRET_LENGTH = 40
SECRET_ALPHABET = string.ascii_letters + string.digits
MAX_TOKEN_ID = 2**63 - 1  # PostgreSQL bigint
# Longest header worth parsing: "Bearer " + 19-digit id + "|" + secret, with room for case.
MAX_HEADER_LENGTH = 7 + 19 + 1 + SECRET_LENGTH
_SECRET_CHARS = frozenset(SECRET_ALPHABET)


class MalformedToken(Exception):
    """The Authorization header does not hold a well-formed ``Bearer {id}|{secret}``."""


def generate_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


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
