"""``Accept-Language: ar``: API messages in Arabic with English keys; English stays the default."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from procurement import services
from procurement.services import LineInput
from tests.helpers import UNAUTHENTICATED, forbidden, issue_token

AR = {"Accept-Language": "ar"}
INVALID_AR = "البيانات المرسلة غير صالحة."
REQUIRED_AR = "هذا الحقل مطلوب."  # Django REST framework's own Arabic catalog
UNAUTHENTICATED_AR = {
    "message": "لم تتم المصادقة.",
    "errors": {"token": ["رمز الوصول غير صالح أو منتهي الصلاحية"]},
}


def forbidden_ar(ability: str) -> dict:
    return {
        "message": "غير مصرّح لك بتنفيذ هذا الإجراء.",
        "errors": {"ability": [f"رمز الوصول لا يملك الصلاحية '{ability}'"]},
    }


@pytest.fixture
def draft_order(acme):
    with tenant_context(acme):
        vendor = services.vendor_create(name="Al Faisal IT Solutions")
        department = services.department_create(name="Information Technology", code="IT")
        order = services.purchase_order_create(
            vendor_id=vendor.pk,
            department_id=department.pk,
            items=[
                LineInput(description="Laptop", quantity=Decimal("1"), unit_price=Decimal("10"))
            ],
        )
    connection.set_schema_to_public()
    return order


def test_unauthenticated_in_arabic_with_the_same_headers(db, api, acme):
    response = api(acme, **AR).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED_AR
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Language"] == "ar"
    assert "Accept-Language" in response["Vary"]


def test_english_is_the_default_with_the_seed_texts(db, api, acme):
    read = issue_token(acme, ["read"])
    for headers in ({}, {"Accept-Language": "en"}, {"Accept-Language": "fr-FR,fr;q=0.9"}):
        assert api(acme, **headers).get("/api/v1/me").json() == UNAUTHENTICATED
        denied = api(acme, read, **headers).post("/api/v1/departments", {"name": "IT"})
        assert denied.json() == forbidden("write")


def test_language_is_chosen_per_request(db, api, acme):
    """An Arabic answer never leaks into the next request (messages are translated lazily)."""
    read = issue_token(acme, ["read"])
    assert api(acme, read, **AR).delete("/api/v1/tokens/1").json() == forbidden_ar("admin")
    assert api(acme, read).delete("/api/v1/tokens/1").json() == forbidden("admin")
    assert api(acme, read, **AR).delete("/api/v1/tokens/1").json() == forbidden_ar("admin")


def test_missing_ability_in_arabic_names_the_ability_in_english(db, api, acme):
    read = issue_token(acme, ["read"])
    response = api(acme, read, **AR).post("/api/v1/departments", {"name": "IT", "code": "IT"})
    assert response.status_code == 403
    assert response.json() == forbidden_ar("write")


def test_not_found_in_arabic(db, api, acme):
    client = api(acme, issue_token(acme, ["read"]), **AR)
    for path in ("/api/v1/purchase-orders/999999", "/api/v1/does-not-exist"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"message": "غير موجود.", "errors": {}}


def test_method_not_allowed_in_arabic(db, api, acme):
    response = api(acme, issue_token(acme, ["admin"]), **AR).put("/api/v1/me", {})
    assert response.status_code == 405
    assert response.json() == {
        "message": "الطريقة غير مسموح بها.",
        "errors": {"method": ["الطريقة PUT غير مسموح بها على هذا المورد."]},
    }


def test_malformed_json_in_arabic(db, api, acme):
    response = api(acme, issue_token(acme, ["admin"]), **AR).post("/api/v1/tokens", raw="{not json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "صيغة نص الطلب غير صحيحة.",
        "errors": {"body": ["نص الطلب ليس JSON صالحًا (السطر 1، العمود 2)."]},
    }
    english = api(acme, issue_token(acme, ["admin"])).post("/api/v1/tokens", raw="{not json")
    assert english.json()["errors"] == {
        "body": ["The request body is not valid JSON (line 1, column 2)."]
    }


def test_validation_messages_in_arabic_with_english_field_names(db, api, acme):
    client = api(acme, issue_token(acme, ["read", "write"]), **AR)
    missing = client.post("/api/v1/departments", {})
    assert missing.status_code == 422
    assert missing.json() == {
        "message": INVALID_AR,
        "errors": {"name": [REQUIRED_AR], "code": [REQUIRED_AR]},
    }
    vendor = client.post("/api/v1/vendors", {"name": "X", "vat_number": "12", "status": "gone"})
    assert vendor.status_code == 422
    assert vendor.json() == {
        "message": INVALID_AR,
        "errors": {
            "vat_number": ["يجب أن يتكون الرقم الضريبي من 15 رقمًا بالضبط."],
            "status": ['"gone" ليس خيارًا صالحًا.'],
        },
    }
    page = client.get("/api/v1/vendors", per_page="abc")
    assert page.status_code == 422
    assert page.json() == {
        "message": INVALID_AR,
        "errors": {"per_page": ["يجب أن تكون قيمة per_page عددًا صحيحًا موجبًا."]},
    }


def test_validation_messages_stay_english_by_default(db, api, acme):
    response = api(acme, issue_token(acme, ["read", "write"])).post("/api/v1/departments", {})
    assert response.json() == {
        "message": "The given data was invalid.",
        "errors": {"name": ["This field is required."], "code": ["This field is required."]},
    }


def test_plan_rate_limit_in_arabic(db, api, acme, settings):
    settings.WAQTI_RATE_LIMITS = {**settings.WAQTI_RATE_LIMITS, "professional": (1, None)}
    client = api(acme, issue_token(acme, ["read"]), **AR)
    assert client.get("/api/v1/me").status_code == 200
    response = client.get("/api/v1/me")
    assert response.status_code == 429
    wait = response["Retry-After"]
    assert response.json() == {
        "message": "عدد الطلبات كبير جدًا.",
        "errors": {
            "rate_limit": [
                "تم تجاوز الحد الأقصى للطلبات في الدقيقة لخطة professional (1 طلب). "
                f"أعد المحاولة بعد {wait} ثانية."
            ]
        },
    }


def test_bad_token_guard_in_arabic(db, api, acme, settings):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 1
    client = api(acme, "1|" + "x" * 40, **AR)
    assert client.get("/api/v1/me").json() == UNAUTHENTICATED_AR
    response = client.get("/api/v1/me")
    assert response.status_code == 429
    wait = response["Retry-After"]
    assert response.json()["errors"] == {
        "rate_limit": [
            "تجاوزت الطلبات المرسلة من هذا العنوان برمز وصول مفقود أو غير صالح الحدَّ "
            f"المسموح به (1 في الدقيقة). أعد المحاولة بعد {wait} ثانية."
        ]
    }


def test_conflict_in_arabic_keeps_the_status_code_value(db, api, acme, draft_order):
    client = api(acme, issue_token(acme, ["read", "approve"]), **AR)
    response = client.post(f"/api/v1/purchase-orders/{draft_order.pk}/approve", {})
    assert response.status_code == 409
    assert response.json() == {
        "message": "لا يمكن اعتماد أمر الشراء إلا إذا كانت حالته pending_approval؛ "
        "وحالة هذا الأمر draft.",
        "errors": {"status": ["الحالة الحالية هي draft."]},
    }
    english = api(acme, issue_token(acme, ["read", "approve"]))
    assert english.post(f"/api/v1/purchase-orders/{draft_order.pk}/approve", {}).json() == {
        "message": "Only a purchase order pending approval can be approved; this one is draft.",
        "errors": {"status": ["The current status is draft."]},
    }


def test_health_is_not_translated(db, api, acme):
    response = api(acme, **AR).get("/health")
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
