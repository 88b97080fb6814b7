"""Token business actions; each writes its own audit event."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tokens import allowlist, secrets
from tokens.abilities import grants_all, normalize_abilities
from tokens.lookup import token_cache
from tokens.models import ApiToken, TokenEvent, TokenPolicy, TokenPolicyEvent
from tokens.policy import DEFAULT_RULES, TokenRules
from waqti.api.serializers import utc_timestamp
from waqti.database_outage import is_database_unavailable, outage
from waqti.domain_events import occurred
from waqti.errors import InvalidInput, NotPermitted

logger = logging.getLogger("waqti.tokens")

LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_GRACE_MINUTES = 1440


@dataclass(frozen=True)
class Actor:
    """Who performs a token action: a Settings user, another token, or the CLI."""

    user: AbstractBaseUser | None = None
    token: ApiToken | None = None
    ip_address: str | None = None
    label: str = ""

    def describe(self) -> str:
        if self.user is not None:
            return f"user:{self.user.get_username()}"
        if self.token is not None:
            return f"token:{self.token.pk}"
        return self.label or "system"

    def audit_fields(self) -> dict[str, Any]:
        """Who and from where, as every audit event (token or policy) stores it."""
        return {
            "actor_user": self.user,
            "actor_token": self.token,
            "actor_label": self.describe(),
            "ip_address": self.ip_address,
        }


@dataclass(frozen=True)
class IssuedToken:
    """A token together with its plaintext, which exists only in this object."""

    token: ApiToken
    plaintext: str


# Token events announced to subscribers (waqti.domain_events: webhooks) as ``token.<kind>``.
ANNOUNCED = frozenset(
    {TokenEvent.Kind.CREATED, TokenEvent.Kind.REGENERATED, TokenEvent.Kind.REVOKED}
)


def _record(
    token: ApiToken, kind: str, actor: Actor, changes: dict[str, Any] | None = None
) -> None:
    """The action's audit event and, for ``ANNOUNCED`` kinds, its domain event: in the
    action's transaction."""
    TokenEvent.objects.create(
        token=token,
        kind=kind,
        **actor.audit_fields(),
        changes=changes or {},
    )
    if kind in ANNOUNCED:
        occurred.send(sender=ApiToken, type=f"token.{kind}", resource=token)


def _changes(token: ApiToken, wanted: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": ..., "after": ...}}`` for the fields whose value would change
    (timestamps as the API writes them)."""
    return {
        name: {"before": _recorded(getattr(token, name)), "after": _recorded(value)}
        for name, value in wanted.items()
        if getattr(token, name) != value
    }


def _recorded(value: Any) -> Any:
    return utc_timestamp(value) if isinstance(value, datetime) else value


def _allowlist(entries: list[str]) -> list[str]:
    """The canonical allowlist (``tokens.allowlist``); InvalidInput on ``allowed_ips`` for an
    entry that is not an address or CIDR or more than MAX_ENTRIES of them (serializers and
    forms say which entry first; this keeps the rule for every caller)."""
    try:
        normalized = allowlist.normalize_allowlist(entries)
    except allowlist.InvalidEntry:
        message = _("Enter IPv4 or IPv6 addresses or CIDRs.")
        raise InvalidInput(errors={"allowed_ips": [message]}) from None
    if len(normalized) > allowlist.MAX_ENTRIES:
        limit = _("At most %(limit)s entries.") % {"limit": allowlist.MAX_ENTRIES}
        raise InvalidInput(errors={"allowed_ips": [limit]})
    return normalized


def _check_escalation(actor: Actor, abilities: list[str]) -> None:
    """A token may only hand out abilities it holds (NotPermitted names the first it lacks, as
    the 403 of a missing ability does)."""
    if actor.token is not None and not grants_all(actor.token.abilities, abilities):
        missing = next(a for a in abilities if not grants_all(actor.token.abilities, [a]))
        lacking = _("Token does not have '%(ability)s' ability") % {"ability": missing}
        raise NotPermitted(_("This action is unauthorized."), {"ability": [lacking]})


def token_policy_rules() -> TokenRules:
    """The current tenant's token policy (the defaults until it is first changed)."""
    row = TokenPolicy.objects.filter(pk=TokenPolicy.SINGLETON_ID).first()
    return row.rules() if row is not None else DEFAULT_RULES


def _check_lifetime(rules: TokenRules, expires_at: datetime | None, now: datetime) -> None:
    """InvalidInput naming ``expires_at`` when the policy's maximum lifetime refuses it."""
    if rules.max_lifetime_days is None or rules.lifetime_allows(expires_at, now):
        return
    days = rules.max_lifetime_days
    message = ngettext(
        "The token policy requires an expiry at most %(days)d day from now.",
        "The token policy requires an expiry at most %(days)d days from now.",
        days,
    ) % {"days": days}
    raise InvalidInput(errors={"expires_at": [message]})


def _check_allowed_abilities(rules: TokenRules, abilities: list[str]) -> None:
    """InvalidInput naming ``abilities`` when the policy does not allow one of them."""
    refused = rules.withheld(abilities)
    if refused:
        message = _("The token policy does not allow the '%(ability)s' ability.")
        raise InvalidInput(errors={"abilities": [message % {"ability": a} for a in refused]})


def token_policy_check(*, abilities: list[str], expires_at: datetime | None) -> None:
    """InvalidInput (naming ``abilities`` or ``expires_at``) when the tenant's token policy
    refuses a new token with these; forms call it to show the refusal on their fields."""
    rules = token_policy_rules()
    errors: dict[str, list[str]] = {}
    for check in (
        functools.partial(_check_allowed_abilities, rules, normalize_abilities(abilities)),
        functools.partial(_check_lifetime, rules, expires_at, timezone.now()),
    ):
        try:
            check()
        except InvalidInput as refused:
            errors.update(refused.errors)
    if errors:
        raise InvalidInput(errors=errors)


def token_create(
    *,
    name: str,
    abilities: list[str],
    expires_at: datetime | None = None,
    allowed_ips: list[str] | None = None,
    actor: Actor,
) -> IssuedToken:
    """Create a token and return it with its plaintext (shown once, never stored); the tenant's
    token policy decides which abilities and expiries are allowed (InvalidInput otherwise).

    ``allowed_ips``: entries of the token's IP allowlist (``tokens.allowlist``, at most
    ``MAX_ENTRIES`` once normalised, else InvalidInput); empty or None: from anywhere.
    An input refused on several fields names each of them at once.
    """
    abilities = normalize_abilities(abilities)
    errors: dict[str, list[str]] = {}
    allowed: list[str] = []
    try:
        allowed = _allowlist(allowed_ips or [])
    except InvalidInput as refused:
        errors.update(refused.errors)
    try:
        token_policy_check(abilities=abilities, expires_at=expires_at)
    except InvalidInput as refused:
        errors.update(refused.errors)
    if errors:
        raise InvalidInput(errors=errors)
    _check_escalation(actor, abilities)
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name,
            abilities=abilities,
            secret_hash="",  # matches no secret; the checksum needs the id PostgreSQL assigns
            expires_at=expires_at,
            allowed_ips=allowed,
            created_by_user=actor.user,
            created_by_token=actor.token,
        )
        secret = secrets.generate_secret(token.pk)
        token.secret_hash = secrets.hash_secret(secret)
        token.save(update_fields=["secret_hash"])
        _record(token, TokenEvent.Kind.CREATED, actor)
        # Workers reject ids above the highest they know without a query (tokens.lookup); the
        # bump after commit tells them a new id exists, before its secret is shown.
        transaction.on_commit(
            functools.partial(token_cache.invalidate_tenant, outwait_readers=True)
        )
    token_cache.invalidate_tenant()
    return IssuedToken(token=token, plaintext=secrets.format_token(token.pk, secret))


KEEP_EXPIRY = object()  # token_regenerate without a new expires_at


def token_regenerate(
    *,
    token: ApiToken,
    grace_period_minutes: int = 0,
    allowed_ips: list[str] | None = None,
    expires_at: datetime | object | None = KEEP_EXPIRY,
    actor: Actor,
) -> IssuedToken:
    """Give the token a new secret; the old one works ``grace_period_minutes`` longer.

    ``allowed_ips`` (None: unchanged) replaces the allowlist, for both secrets; the event
    records its before and after, and those of ``expires_at`` when that changes.

    ``expires_at`` (optional) replaces the token's expiry; under a maximum lifetime the expiry
    it ends up with must be within it (InvalidInput naming ``expires_at``), so a token that would
    outlive the policy is regenerated with a new, shorter expiry.
    """
    _check_escalation(actor, token.abilities)
    wanted: dict[str, Any] = {} if allowed_ips is None else {"allowed_ips": _allowlist(allowed_ips)}
    if expires_at is not KEEP_EXPIRY:
        wanted["expires_at"] = expires_at
    now = timezone.now()
    rules = token_policy_rules()
    secret = secrets.generate_secret(token.pk)  # checksummed, also for a token issued before
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        _check_lifetime(rules, wanted.get("expires_at", token.expires_at), now)
        if grace_period_minutes > 0:
            token.previous_secret_hash = token.secret_hash
            token.previous_secret_valid_until = now + timedelta(minutes=grace_period_minutes)
        else:
            token.previous_secret_hash = ""
            token.previous_secret_valid_until = None
        token.secret_hash = secrets.hash_secret(secret)
        token.regenerated_at = now
        changes = _changes(token, wanted)
        for name in changes:
            setattr(token, name, wanted[name])
        token.save(
            update_fields=[
                "secret_hash",
                "previous_secret_hash",
                "previous_secret_valid_until",
                "regenerated_at",
                *changes,
            ]
        )
        _record(token, TokenEvent.Kind.REGENERATED, actor, changes)
        transaction.on_commit(
            functools.partial(token_cache.invalidate_tenant, outwait_readers=True)
        )
    token_cache.invalidate_tenant()
    return IssuedToken(token=token, plaintext=secrets.format_token(token.pk, secret))


def token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke a token; it fails with 401 on its next use in every server process once the
    tenant's token version has changed (within 30 s if Redis cannot be written now)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            _record(token, TokenEvent.Kind.REVOKED, actor)
        transaction.on_commit(token_cache.invalidate_tenant)
    token_cache.invalidate_tenant()
    return token


def token_update(
    *,
    token: ApiToken,
    actor: Actor,
    name: str | None = None,
    allowed_ips: list[str] | None = None,
) -> ApiToken:
    """Rename a token or replace its IP allowlist (None: unchanged); abilities, expiry and
    secrets are not editable. A token may only edit tokens whose abilities it holds (as for
    regenerate). Records one "updated" event with each changed field's before and after, none
    when nothing changes.

    Takes effect on the next request in every server process, as a revocation does: the bump
    after commit makes every worker re-read the row before it accepts the token again (its cache
    is confirmed against the version in the same Redis call that counts the request). No
    commit-wait: nothing that was refused becomes accepted on a stale reading, since the
    allowlist is checked on the re-read row.
    """
    _check_escalation(actor, token.abilities)
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = name
    if allowed_ips is not None:
        wanted["allowed_ips"] = _allowlist(allowed_ips)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        changes = _changes(token, wanted)
        if not changes:
            return token
        for field_name in changes:
            setattr(token, field_name, wanted[field_name])
        token.save(update_fields=list(changes))
        _record(token, TokenEvent.Kind.UPDATED, actor, changes)
        transaction.on_commit(token_cache.invalidate_tenant)
    token_cache.invalidate_tenant()
    return token


def token_touch(token: ApiToken, now: datetime) -> bool:
    """Keep ``last_used_at`` current to a minute with at most one conditional UPDATE a minute.

    The UPDATE only touches a usable row (not revoked, not expired at ``now``): callers may act
    on a stale snapshot (the early-refusal path), and a revoked token's last use must stay the
    last use it really had. Returns True when an UPDATE was sent (this worker's cached snapshot
    then learns the new time too).
    """
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    # Best effort: a request that needs no other SQL (a cached /me) is served through a database
    # outage; last_used_at is then written by the first request after it.
    if outage.recently_failed():
        return False
    try:
        ApiToken.objects.usable(now).filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    except DatabaseError as exc:
        if not is_database_unavailable(exc):
            raise
        outage.noticed(exc)
        return False
    token.last_used_at = now
    token_cache.note_used(token.pk, now)
    return True


def token_rehash(*, token_id: int, field: str, secret: str) -> bool:
    """Re-hash a secret that matched ``field`` (``secret_hash`` or ``previous_secret_hash``)
    under a previous secret key (``SECRET_KEY_FALLBACKS``) with the current key.

    Conditional on the stored hash still being the secret's hash under a previous key, so
    concurrent requests re-hash it once and a regenerate that replaced it in between wins.
    Returns True when the row was updated. Not an audit event: the token's secret is unchanged.
    """
    if field not in {"secret_hash", "previous_secret_hash"}:
        raise ValueError(f"not a secret hash field: {field}")
    stale = [
        secrets.hash_secret(secret, pepper) for pepper in settings.WAQTI_TOKEN_PEPPER_FALLBACKS
    ]
    updated = ApiToken.objects.filter(pk=token_id, **{f"{field}__in": stale}).update(
        **{field: secrets.hash_secret(secret)}
    )
    if updated:
        logger.info("token %s: %s re-hashed under the current secret key", token_id, field)
    token_cache.forget(token_id)  # this worker's snapshot holds the old hash
    return bool(updated)


def token_policy_update(*, changes: dict[str, Any], actor: Actor) -> TokenRules:
    """Set fields of the tenant's token policy (validated by the caller: ``tokens.policy`` names
    them) and record who changed it from what to what; a change applies on the next request in
    every process (the token version is bumped after commit, as a revoke does). Setting the
    values it already has records nothing."""
    with transaction.atomic():
        policy, _created = TokenPolicy.objects.select_for_update().get_or_create(
            pk=TokenPolicy.SINGLETON_ID
        )
        before = policy.rules().as_dict()
        for name, value in changes.items():
            setattr(policy, name, value)
        after = policy.rules().as_dict()
        if after == before:
            return policy.rules()
        policy.updated_at = timezone.now()
        policy.save()
        TokenPolicyEvent.objects.create(
            **actor.audit_fields(),
            before=before,
            after=after,
        )
        transaction.on_commit(token_cache.invalidate_tenant)
    token_cache.invalidate_tenant()
    return policy.rules()


def tokens_prune(*, older_than_days: int, now: datetime | None = None) -> int:
    """Delete tokens revoked or expired more than ``older_than_days`` ago; returns the count."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    stale = ApiToken.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff))
    count = stale.count()
    stale.delete()
    return count
