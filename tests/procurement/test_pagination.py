"""The list envelope's links: the request's own URL at other pages, query sorted by name."""

from __future__ import annotations

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.utils.urls import replace_query_param

from waqti.api.pagination import PageNumberEnvelopePagination


def test_pagination_links_of_a_middle_page_are_exact(clients, make, acme):
    for _ in range(5):
        make.department(acme)
    body = clients["read"].get("/api/v1/departments", per_page=2, page=2, sort="code").json()
    base = "http://acme.localhost/api/v1/departments?"
    assert body["links"] == {
        "first": base + "page=1&per_page=2&sort=code",
        "last": base + "page=3&per_page=2&sort=code",
        "prev": base + "page=1&per_page=2&sort=code",
        "next": base + "page=3&per_page=2&sort=code",
    }
    assert body["meta"] == {"current_page": 2, "last_page": 3, "per_page": 2, "total": 5}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "page=2",
        "per_page=1&page=3",
        "search=caf%C3%A9+%26+co&status=&status=approved&page=2",
        "z=1&a=2&per_page=500&page=2",
    ],
)
def test_pagination_links_are_drfs_replace_query_param(query):
    request = Request(APIRequestFactory().get("/api/v1/vendors?" + query, HTTP_HOST="x.localhost"))
    pagination = PageNumberEnvelopePagination()
    pagination.paginate_queryset(_Counted(700), request)
    url = request.build_absolute_uri()

    def drf(page: int) -> str:
        return replace_query_param(
            replace_query_param(url, "per_page", pagination.per_page), "page", page
        )

    links = pagination.get_paginated_response([]).data["links"]
    assert links["first"] == drf(1)
    assert links["last"] == drf(pagination.last_page)
    assert links["prev"] == (drf(pagination.page - 1) if pagination.page > 1 else None)
    assert links["next"] == (
        drf(pagination.page + 1) if pagination.page < pagination.last_page else None
    )


class _Counted:
    """A ``CountedSlices`` source of ``total`` rows."""

    def __init__(self, total: int) -> None:
        self.total = total

    def count_and_slice(self, start: int, stop: int) -> tuple[int, list]:
        return self.total, list(range(start, min(stop, self.total)))
