"""Separation of duties on approvals (maker-checker) and the tenant's approval policy.

The token that created or submitted a purchase order (its makers, read from the order's
``created`` and ``submitted`` events) may not approve or reject it: ``NotPermitted``, a 403 in
the seed's shape with the reason under ``errors.ability``. A tenant that approves with the token
that also submits (a single ERP integration, say) relaxes the rule in its approval policy
(``GET/PUT /api/v1/approval-policy``); such an approval or rejection is then recorded in the
order's event with ``separation_waived``. An action without a token (the operator's console, the
demo data) names no maker or checker and is never refused.

The check runs inside the action's transaction, after the order's row lock
(``procurement.lifecycle``): one statement for the makers and one for the policy, on the write
path only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from procurement.models import (
    ApprovalPolicy,
    ApprovalPolicyEvent,
    PurchaseOrder,
    PurchaseOrderEvent,
)
from waqti.errors import NotPermitted

Kind = PurchaseOrderEvent.Kind

# The actions a maker may not take on its own order, and the events that make a token a maker.
CHECKED_ACTIONS = frozenset({"approve", "reject"})
MAKER_EVENTS = (Kind.CREATED, Kind.SUBMITTED)

# One sentence per action so each can be translated whole.
REFUSALS: dict[str, Promise] = {
    "approve": gettext_lazy(
        "This token created or submitted this purchase order, so it cannot approve it "
        "(separation of duties)."
    ),
    "reject": gettext_lazy(
        "This token created or submitted this purchase order, so it cannot reject it "
        "(separation of duties)."
    ),
}


@dataclass(frozen=True)
class Policy:
    separation_of_duties: bool
    updated_at: datetime | None


DEFAULT_POLICY = Policy(separation_of_duties=True, updated_at=None)


def approval_policy() -> Policy:
    """The tenant's approval policy (the defaults while it was never changed)."""
    row = ApprovalPolicy.objects.filter(pk=ApprovalPolicy.SINGLETON_ID).first()
    if row is None:
        return DEFAULT_POLICY
    return Policy(separation_of_duties=row.separation_of_duties, updated_at=row.updated_at)


def approval_policy_update(*, separation_of_duties: bool, token_id: int | None) -> Policy:
    """Set the policy and record the change (token, time, new value) in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        ApprovalPolicy.objects.update_or_create(
            pk=ApprovalPolicy.SINGLETON_ID,
            defaults={"separation_of_duties": separation_of_duties, "updated_at": now},
        )
        ApprovalPolicyEvent.objects.create(
            token_id=token_id, separation_of_duties=separation_of_duties
        )
    return Policy(separation_of_duties=separation_of_duties, updated_at=now)


def checked(order: PurchaseOrder, action: str, token_id: int | None) -> bool:
    """Refuse ``action`` by a maker of ``order`` unless the policy waives the rule; returns
    whether it was waived (True: recorded on the action's event). Call under the row lock."""
    if action not in CHECKED_ACTIONS or token_id is None:
        return False
    makers = PurchaseOrderEvent.objects.filter(
        purchase_order=order, kind__in=MAKER_EVENTS, token_id=token_id
    )
    if not makers.exists():
        return False
    if approval_policy().separation_of_duties:
        raise NotPermitted(errors={"ability": [str(REFUSALS[action])]})
    return True
