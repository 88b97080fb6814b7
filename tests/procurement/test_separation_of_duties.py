"""Maker-checker: the token that created or submitted an order cannot approve or reject it, unless
the tenant's approval policy says so (``procurement/separation.py``, /api/v1/approval-policy)."""

from __future__ import annotations

from typing import Any

import pytest

from procurement.models import ApprovalPolicyEvent, PurchaseOrderEvent
from tests.helpers import issue_token

ITEMS = [{"description": "Laptop", "quantity": "2", "unit_price": "4500.00"}]
REFUSED = {
    "approve": {
        "message": "This action is unauthorized.",
        "errors": {
            "ability": [
                "This token created or submitted this purchase order, so it cannot approve it "
                "(separation of duties)."
            ]
        },
    },
    "reject": {
        "message": "This action is unauthorized.",
        "errors": {
            "ability": [
                "This token created or submitted this purchase order, so it cannot reject it "
                "(separation of duties)."
            ]
        },
    },
}
DECISIONS = {"approve": ("approved", {"comments": "ok"}), "reject": ("rejected", {"reason": "no"})}


@pytest.fixture
def tokens(db: None, api: Any, acme: Any) -> dict[str, Any]:
    """Clients of four tokens: an ERP that writes and approves, a writer, a checker, an admin."""
    sets = {
        "erp": ["read", "write", "approve"],
        "writer": ["read", "write"],
        "checker": ["read", "approve"],
        "admin": ["read", "admin"],
    }
    return {
        name: api(acme, issue_token(acme, abilities, name=name)) for name, abilities in sets.items()
    }


def token_id(client: Any) -> int:
    return int(client.token.split("|")[0])


def draft(client: Any, make: Any, acme: Any) -> int:
    vendor, department = make.vendor(acme), make.department(acme)
    response = client.post(
        "/api/v1/purchase-orders",
        {"vendor_id": vendor.pk, "department_id": department.pk, "items": ITEMS},
    )
    assert response.status_code == 201, response.json()
    return response.json()["data"]["id"]


def events(in_tenant: Any, acme: Any, order_id: int) -> list[tuple[str, int | None, bool]]:
    return in_tenant(
        acme,
        lambda: list(
            PurchaseOrderEvent.objects.filter(purchase_order_id=order_id).values_list(
                "kind", "token_id", "separation_waived"
            )
        ),
    )


@pytest.mark.parametrize("action", ["approve", "reject"])
@pytest.mark.parametrize(
    ("maker", "submitter"), [("erp", "erp"), ("erp", "writer"), ("writer", "erp")]
)
def test_a_maker_cannot_decide_on_its_own_order(
    tokens, make, acme, in_tenant, action, maker, submitter
):
    order_id = draft(tokens[maker], make, acme)
    url = f"/api/v1/purchase-orders/{order_id}"
    assert tokens[submitter].post(f"{url}/submit").status_code == 200
    _status, body = DECISIONS[action]
    refused = tokens["erp"].post(f"{url}/{action}", body)
    assert refused.status_code == 403
    assert refused.json() == REFUSED[action]
    shown = tokens["checker"].get(url).json()["data"]
    assert shown["status"] == "pending_approval"  # nothing half-written
    assert [kind for kind, *_ in events(in_tenant, acme, order_id)] == ["created", "submitted"]


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_another_token_decides_and_nothing_is_waived(tokens, make, acme, in_tenant, action):
    order_id = draft(tokens["erp"], make, acme)
    url = f"/api/v1/purchase-orders/{order_id}"
    assert tokens["erp"].post(f"{url}/submit").status_code == 200
    status, body = DECISIONS[action]
    decided = tokens["checker"].post(f"{url}/{action}", body)
    assert decided.status_code == 200 and decided.json()["data"]["status"] == status
    checker_id = token_id(tokens["checker"])
    assert events(in_tenant, acme, order_id)[-1] == (status, checker_id, False)


def test_the_refusal_is_in_arabic_on_request(tokens, make, acme):
    order_id = draft(tokens["erp"], make, acme)
    url = f"/api/v1/purchase-orders/{order_id}"
    tokens["erp"].post(f"{url}/submit")
    refused = tokens["erp"].post(f"{url}/approve", headers={"Accept-Language": "ar"})
    assert refused.status_code == 403
    body = refused.json()
    assert body["message"] != "This action is unauthorized."
    assert body["errors"]["ability"][0] != REFUSED["approve"]["errors"]["ability"][0]
    assert not body["errors"]["ability"][0].isascii()


def test_orders_made_without_a_token_have_no_maker(tokens, make, acme):
    """Demo data and the operator's console act without a token: any approver may decide."""
    order = make.walk(acme, make.order(acme), "submit")
    decided = tokens["erp"].post(f"/api/v1/purchase-orders/{order.pk}/approve")
    assert decided.status_code == 200


def test_policy_defaults_to_separation_and_only_admins_see_or_change_it(tokens):
    shown = tokens["admin"].get("/api/v1/approval-policy")
    assert shown.status_code == 200
    assert shown.json() == {
        "data": {"separation_of_duties": True, "updated_at": None, "changes": []}
    }
    for name in ("erp", "writer", "checker"):
        refused = tokens[name].put("/api/v1/approval-policy", {"separation_of_duties": False})
        assert refused.status_code == 403
        assert refused.json()["errors"] == {"ability": ["Token does not have 'admin' ability"]}
        assert tokens[name].get("/api/v1/approval-policy").status_code == 403


@pytest.mark.parametrize(
    "body",
    [{}, {"separation_of_duties": None}, {"separation_of_duties": "maybe"}, [1], "x"],
)
def test_policy_rejects_bad_input_with_422(tokens, body):
    response = tokens["admin"].put("/api/v1/approval-policy", body)
    assert response.status_code in (400, 422)
    assert response.json()["message"]
    assert tokens["admin"].get("/api/v1/approval-policy").json()["data"]["changes"] == []


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_relaxed_policy_lets_the_maker_decide_and_records_the_waiver(
    tokens, make, acme, in_tenant, action
):
    relaxed = tokens["admin"].put("/api/v1/approval-policy", {"separation_of_duties": False})
    assert relaxed.status_code == 200
    data = relaxed.json()["data"]
    assert data["separation_of_duties"] is False and data["updated_at"].endswith("Z")
    admin_id = token_id(tokens["admin"])
    assert [(c["token_id"], c["separation_of_duties"]) for c in data["changes"]] == [
        (admin_id, False)
    ]
    order_id = draft(tokens["erp"], make, acme)
    url = f"/api/v1/purchase-orders/{order_id}"
    tokens["erp"].post(f"{url}/submit")
    status, body = DECISIONS[action]
    decided = tokens["erp"].post(f"{url}/{action}", body)
    assert decided.status_code == 200 and decided.json()["data"]["status"] == status
    erp_id = token_id(tokens["erp"])
    assert events(in_tenant, acme, order_id)[-1] == (status, erp_id, True)

    restored = tokens["admin"].put("/api/v1/approval-policy", {"separation_of_duties": True})
    changes = restored.json()["data"]["changes"]
    assert [c["separation_of_duties"] for c in changes] == [True, False]  # newest first
    assert in_tenant(acme, ApprovalPolicyEvent.objects.count) == 2
    second = draft(tokens["erp"], make, acme)
    tokens["erp"].post(f"/api/v1/purchase-orders/{second}/submit")
    assert tokens["erp"].post(f"/api/v1/purchase-orders/{second}/approve").status_code == 403


def test_the_policy_is_the_tenants_own(tokens, api, globex, make, acme):
    tokens["admin"].put("/api/v1/approval-policy", {"separation_of_duties": False})
    other = api(globex, issue_token(globex, ["read", "admin"]))
    assert other.get("/api/v1/approval-policy").json()["data"]["separation_of_duties"] is True


def test_the_audit_trail_is_read_only_in_the_tenants_admin():
    from procurement.admin import PurchaseOrderEventInline

    fields = {field.name for field in PurchaseOrderEvent._meta.fields} - {"id", "purchase_order"}
    assert fields <= set(PurchaseOrderEventInline.readonly_fields)
