"""The list filter backend builds its filter form only when the query string filters."""

from __future__ import annotations

from procurement.filters import PurchaseOrderFilter


def test_filter_form_is_built_only_when_a_filter_is_given(db, clients, make, acme, monkeypatch):
    make.order(acme)
    built: list[dict] = []
    original = PurchaseOrderFilter.__init__

    def counting_init(self, data=None, *args, **kwargs):
        built.append(dict(data or {}))
        original(self, data, *args, **kwargs)

    monkeypatch.setattr(PurchaseOrderFilter, "__init__", counting_init)
    listed = clients["read"].get("/api/v1/purchase-orders", per_page=5, sort_by="id", page=1)
    assert listed.status_code == 200 and listed.json()["meta"]["total"] == 1
    assert built == []
    refused = clients["read"].get("/api/v1/purchase-orders", status="nope")
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["status"]
    assert clients["read"].get("/api/v1/purchase-orders", status="").json()["meta"]["total"] == 1
    assert [list(data) for data in built] == [["status"], ["status"]]
