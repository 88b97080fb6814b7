"""``/api/v1/departments``: CRUD, unique codes, sorting, pagination, tenant isolation."""

from __future__ import annotations

import pytest

from tests.helpers import UNAUTHENTICATED, forbidden, issue_token
from tests.procurement.conftest import FROZEN_AT

INVALID = "The given data was invalid."
NOT_FOUND = {"message": "Not found.", "errors": {}}


def test_department_create_returns_201_with_the_contract_shape(clients, frozen):
    response = clients["write"].post(
        "/api/v1/departments", {"name": "Information Technology", "code": "IT", "name_ar": "تقنية"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "data": {
            "id": body["data"]["id"],
            "name": "Information Technology",
            "name_ar": "تقنية",
            "code": "IT",
            "created_at": FROZEN_AT,
            "updated_at": FROZEN_AT,
        }
    }
    shown = clients["read"].get(f"/api/v1/departments/{body['data']['id']}")
    assert shown.status_code == 200 and shown.json() == body


def test_department_create_without_name_ar_shows_null(clients):
    data = clients["write"].post("/api/v1/departments", {"name": "Finance", "code": "FIN"}).json()
    assert data["data"]["name_ar"] is None


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"code": "IT"}, {"name": ["This field is required."]}),
        ({"name": "IT"}, {"code": ["This field is required."]}),
        ({"name": "", "code": "IT"}, {"name": ["This field may not be blank."]}),
        (
            {"name": "IT", "code": "x" * 51},
            {"code": ["Ensure this field has no more than 50 characters."]},
        ),
        ({"name": "IT\x00", "code": "IT"}, {"name": ["Null characters are not allowed."]}),
    ],
)
def test_department_create_rejects_invalid_input(clients, body, errors):
    response = clients["write"].post("/api/v1/departments", body)
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}


def test_department_code_is_unique_per_tenant_ignoring_case(clients, make, acme, globex, api):
    make.department(acme, code="OPS")
    response = clients["write"].post("/api/v1/departments", {"name": "Ops 2", "code": "ops"})
    assert response.status_code == 422
    assert response.json() == {
        "message": INVALID,
        "errors": {"code": ["The code has already been taken."]},
    }
    # Another tenant may use the same code.
    other = api(globex, issue_token(globex, ["write"]))
    assert other.post("/api/v1/departments", {"name": "Ops", "code": "OPS"}).status_code == 201


def test_department_update_put_patch_and_code_clash(clients, make, acme):
    department = make.department(acme, name="Finance", code="FIN")
    make.department(acme, code="HR")
    url = f"/api/v1/departments/{department.pk}"
    put = clients["write"].put(url, {"name": "Finance & Accounting", "code": "FIN"})
    assert put.status_code == 200
    assert put.json()["data"]["name"] == "Finance & Accounting"
    assert clients["write"].put(url, {"name": "Only name"}).json() == {
        "message": INVALID,
        "errors": {"code": ["This field is required."]},
    }
    patch = clients["write"].patch(url, {"name_ar": "المالية"})
    assert patch.status_code == 200
    assert patch.json()["data"]["name"] == "Finance & Accounting"
    assert patch.json()["data"]["name_ar"] == "المالية"
    clash = clients["write"].patch(url, {"code": "hr"})
    assert clash.status_code == 422
    assert clash.json()["errors"] == {"code": ["The code has already been taken."]}


def test_department_list_sorts_and_paginates(clients, make, acme):
    for code in ["B", "C", "A"]:
        make.department(acme, code=code, name=f"Dept {code}")
    listing = clients["read"].get("/api/v1/departments").json()
    assert [d["code"] for d in listing["data"]] == ["A", "C", "B"]  # newest first
    assert listing["meta"] == {"current_page": 1, "last_page": 1, "per_page": 15, "total": 3}
    by_code = clients["read"].get("/api/v1/departments", sort_by="code", sort_order="asc").json()
    assert [d["code"] for d in by_code["data"]] == ["A", "B", "C"]
    alias = clients["read"].get("/api/v1/departments", sort="name", order="desc").json()
    assert [d["code"] for d in alias["data"]] == ["C", "B", "A"]
    paged = clients["read"].get("/api/v1/departments", sort="code", order="asc", per_page=2, page=2)
    body = paged.json()
    assert [d["code"] for d in body["data"]] == ["C"]
    assert body["meta"] == {"current_page": 2, "last_page": 2, "per_page": 2, "total": 3}
    assert body["links"]["next"] is None and "page=1" in body["links"]["prev"]


def test_department_list_rejects_unknown_sort_field_and_order(clients):
    response = clients["read"].get("/api/v1/departments", sort_by="secret")
    assert response.status_code == 422
    assert response.json() == {
        "message": INVALID,
        "errors": {
            "sort_by": ["The sort_by must be one of: created_at, updated_at, name, code, id."]
        },
    }
    response = clients["read"].get("/api/v1/departments", sort="name", order="sideways")
    assert response.status_code == 422
    assert response.json()["errors"] == {"order": ["The order must be one of: asc, desc."]}


def test_department_delete_and_refusal_when_used(clients, make, acme):
    unused = make.department(acme)
    assert clients["delete"].delete(f"/api/v1/departments/{unused.pk}").status_code == 204
    assert clients["read"].get(f"/api/v1/departments/{unused.pk}").json() == NOT_FOUND
    used = make.department(acme)
    make.order(acme, department=used)
    response = clients["delete"].delete(f"/api/v1/departments/{used.pk}")
    assert response.status_code == 409
    assert response.json() == {
        "message": "The department has purchase orders and cannot be deleted.",
        "errors": {"department": ["Referenced by purchase orders."]},
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/departments/abc",
        "/api/v1/departments/1.5",
        "/api/v1/departments/9999999999999999999999",
    ],
)
def test_department_junk_ids_are_404(clients, path):
    response = clients["read"].get(path)
    assert response.status_code == 404


def test_department_of_another_tenant_is_404(clients, make, globex):
    foreign = make.department(globex)
    url = f"/api/v1/departments/{foreign.pk}"
    assert clients["admin"].get(url).json() == NOT_FOUND
    assert clients["admin"].patch(url, {"name": "x"}).status_code == 404
    assert clients["admin"].delete(url).status_code == 404


def test_department_abilities(clients, api, acme, make):
    department = make.department(acme)
    url = f"/api/v1/departments/{department.pk}"
    assert api(acme).get("/api/v1/departments").json() == UNAUTHENTICATED
    assert clients["read"].post(
        "/api/v1/departments", {"name": "x", "code": "x"}
    ).json() == forbidden("write")
    assert clients["read"].patch(url, {"name": "x"}).json() == forbidden("write")
    assert clients["write"].delete(url).json() == forbidden("delete")
    assert clients["delete"].get(url).json() == forbidden("read")
    assert clients["admin"].delete(url).status_code == 204
