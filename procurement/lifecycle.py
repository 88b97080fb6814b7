"""The purchase-order status machine: which action is allowed from which status, and where it
leads, as a table; each action locks the order's row, checks separation of duties
(``procurement.separation``: approve and reject) and writes its audit event in the same
transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procurement import separation
from procurement.models import PurchaseOrder, PurchaseOrderEvent
from waqti.domain_events import occurred
from waqti.errors import StateConflict

Status = PurchaseOrder.Status

# What each action needs and where it leads; edit and delete keep or drop the order.
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "edit": (frozenset({Status.DRAFT}), Status.DRAFT),
    "delete": (frozenset({Status.DRAFT}), None),
    "submit": (frozenset({Status.DRAFT}), Status.PENDING_APPROVAL),
    "approve": (frozenset({Status.PENDING_APPROVAL}), Status.APPROVED),
    "reject": (frozenset({Status.PENDING_APPROVAL}), Status.REJECTED),
    "cancel": (frozenset({Status.DRAFT, Status.PENDING_APPROVAL}), Status.CANCELLED),
    "complete": (frozenset({Status.APPROVED}), Status.COMPLETED),
}

# One sentence per action so each can be translated whole.
REFUSALS: dict[str, Promise] = {
    "edit": gettext_lazy("Only a draft purchase order can be edited; this one is %(status)s."),
    "delete": gettext_lazy("Only a draft purchase order can be deleted; this one is %(status)s."),
    "submit": gettext_lazy("Only a draft purchase order can be submitted; this one is %(status)s."),
    "approve": gettext_lazy(
        "Only a purchase order pending approval can be approved; this one is %(status)s."
    ),
    "reject": gettext_lazy(
        "Only a purchase order pending approval can be rejected; this one is %(status)s."
    ),
    "cancel": gettext_lazy(
        "Only a draft or pending purchase order can be cancelled; this one is %(status)s."
    ),
    "complete": gettext_lazy(
        "Only an approved purchase order can be completed; this one is %(status)s."
    ),
}


def locked_for(order: PurchaseOrder, action: str) -> PurchaseOrder:
    """Re-read the order under a row lock; ``StateConflict`` (409) when ``action`` is not
    allowed from its current status. Call inside the action's transaction."""
    locked = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    allowed, _target = TRANSITIONS[action]
    if locked.status not in allowed:
        raise StateConflict(
            REFUSALS[action] % {"status": locked.status},
            {"status": [_("The current status is %(status)s.") % {"status": locked.status}]},
        )
    return locked


def record_event(
    order: PurchaseOrder,
    kind: str,
    from_status: str,
    token_id: int | None,
    note: str = "",
    *,
    separation_waived: bool = False,
) -> None:
    """Append the audit event of an action on ``order`` (already in its new status) and announce
    it (``waqti.domain_events``: ``purchase_order.<kind>``), in the action's transaction."""
    PurchaseOrderEvent.objects.create(
        purchase_order=order,
        kind=kind,
        from_status=from_status,
        to_status=order.status,
        token_id=token_id,
        note=note,
        separation_waived=separation_waived,
    )
    occurred.send(sender=PurchaseOrder, type=f"purchase_order.{kind}", resource=order)


def _transition(
    order: PurchaseOrder,
    action: str,
    kind: str,
    token_id: int | None,
    note: str = "",
    **stamps: Any,
) -> PurchaseOrder:
    with transaction.atomic():
        locked = locked_for(order, action)
        waived = separation.checked(locked, action, token_id)  # maker-checker (403)
        from_status = locked.status
        locked.status = TRANSITIONS[action][1]
        for field, value in stamps.items():
            setattr(locked, field, value)
        locked.save()
        record_event(locked, kind, from_status, token_id, note, separation_waived=waived)
    return locked


def purchase_order_submit(*, purchase_order: PurchaseOrder, token_id: int | None) -> PurchaseOrder:
    """draft -> pending_approval."""
    return _transition(
        purchase_order,
        "submit",
        PurchaseOrderEvent.Kind.SUBMITTED,
        token_id,
        submitted_at=timezone.now(),
    )


def purchase_order_approve(
    *, purchase_order: PurchaseOrder, comments: str = "", token_id: int | None
) -> PurchaseOrder:
    """pending_approval -> approved, with optional comments."""
    return _transition(
        purchase_order,
        "approve",
        PurchaseOrderEvent.Kind.APPROVED,
        token_id,
        comments,
        approved_at=timezone.now(),
        approval_comments=comments,
    )


def purchase_order_reject(
    *, purchase_order: PurchaseOrder, reason: str, token_id: int | None
) -> PurchaseOrder:
    """pending_approval -> rejected; the reason is kept and shown."""
    return _transition(
        purchase_order,
        "reject",
        PurchaseOrderEvent.Kind.REJECTED,
        token_id,
        reason,
        rejected_at=timezone.now(),
        rejection_reason=reason,
    )


def purchase_order_cancel(*, purchase_order: PurchaseOrder, token_id: int | None) -> PurchaseOrder:
    """draft or pending_approval -> cancelled."""
    return _transition(
        purchase_order,
        "cancel",
        PurchaseOrderEvent.Kind.CANCELLED,
        token_id,
        cancelled_at=timezone.now(),
    )


def purchase_order_complete(
    *, purchase_order: PurchaseOrder, token_id: int | None
) -> PurchaseOrder:
    """approved -> completed (goods received)."""
    return _transition(
        purchase_order,
        "complete",
        PurchaseOrderEvent.Kind.COMPLETED,
        token_id,
        completed_at=timezone.now(),
    )
