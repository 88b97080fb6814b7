"""Pagination with the contract's envelope: ``data`` + ``meta`` + ``links``."""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from waqti.api.exceptions import InvalidData

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100
# An offset handed to SQL must fit PostgreSQL's bigint. No table holds that many rows, so a page
# starting further on is past the end whatever the data (and refused like any page past the end).
MAX_OFFSET = 2**63 - 1 - MAX_PER_PAGE


def _positive_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or not raw.strip().isdigit():
        raise InvalidData({name: [_("The %(name)s must be a positive integer.") % {"name": name}]})
    return value


@runtime_checkable
class CountedSlices(Protocol):
    """A list source that answers its total and one slice in a single call (one round trip)."""

    def count_and_slice(self, start: int, stop: int) -> tuple[int, list]: ...


class PageNumberEnvelopePagination(BasePagination):
    """``?page=`` (default 1) and ``?per_page=`` (default 15, capped at 100).

    Pages a queryset (count, then slice) or a ``CountedSlices`` source. A page past the last
    one is a 422 naming ``page``, on every list (page 1 of an empty list is an empty page).
    """

    def paginate_queryset(
        self, queryset: QuerySet | CountedSlices, request: Request, view: Any = None
    ) -> list:
        self.request = request
        self.page = _positive_int(request, "page", 1)
        self.per_page = min(_positive_int(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
        start = (self.page - 1) * self.per_page
        rows: list = []
        if isinstance(queryset, CountedSlices):
            offset = min(start, MAX_OFFSET)
            self.total, rows = queryset.count_and_slice(offset, offset + self.per_page)
        else:
            self.total = queryset.count()
            if start < self.total:
                rows = list(queryset[start : start + self.per_page])
        self.last_page = max(1, math.ceil(self.total / self.per_page))
        if self.page > self.last_page:
            raise InvalidData(
                {
                    "page": [
                        _("The page must not be greater than %(last_page)s, the last page.")
                        % {"last_page": self.last_page}
                    ]
                }
            )
        return rows

    def _links(self) -> dict[str, str | None]:
        """The request's own URL at other pages: DRF's ``replace_query_param`` for ``per_page``
        and ``page`` (query sorted by name), with the URL parsed once instead of per link."""
        url = urlsplit(self.request.build_absolute_uri())
        params = parse_qs(url.query, keep_blank_values=True)
        params["per_page"] = [str(self.per_page)]

        def link(page: int) -> str:
            query = urlencode(sorted({**params, "page": [str(page)]}.items()), doseq=True)
            return urlunsplit(url._replace(query=query))

        return {
            "first": link(1),
            "last": link(self.last_page),
            "prev": link(self.page - 1) if self.page > 1 else None,
            "next": link(self.page + 1) if self.page < self.last_page else None,
        }

    def get_paginated_response(self, data: list) -> Response:
        return Response(
            {
                "data": data,
                "meta": {
                    "current_page": self.page,
                    "last_page": self.last_page,
                    "per_page": self.per_page,
                    "total": self.total,
                },
                "links": self._links(),
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["data", "meta", "links"],
            "properties": {
                "data": schema,
                "meta": {
                    "type": "object",
                    "properties": {
                        name: {"type": "integer"}
                        for name in ("current_page", "last_page", "per_page", "total")
                    },
                },
                "links": {
                    "type": "object",
                    "properties": {name: link for name in ("first", "last", "prev", "next")},
                },
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "default": 1},
                "description": "A page past the last one is a 422 naming `page` (page 1 of an "
                "empty list is an empty page).",
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                # Not a maximum: larger values are accepted and read as MAX_PER_PAGE.
                "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_PER_PAGE},
                "description": f"Items per page; values above {MAX_PER_PAGE} are read as "
                f"{MAX_PER_PAGE}.",
            },
        ]
