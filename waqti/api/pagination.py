"""Pagination with the contract's envelope: ``data`` + ``meta`` + ``links``."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from waqti.api.exceptions import InvalidData

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100


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


class PageNumberEnvelopePagination(BasePagination):
    """``?page=`` (default 1) and ``?per_page=`` (default 15, capped at 100)."""

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list:
        self.request = request
        self.page = _positive_int(request, "page", 1)
        self.per_page = min(_positive_int(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
        self.total = queryset.count()
        self.last_page = max(1, math.ceil(self.total / self.per_page))
        start = (self.page - 1) * self.per_page
        if self.total == 0 or start >= self.total:
            return []
        return list(queryset[start : start + self.per_page])

    def _link(self, page: int) -> str:
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, "per_page", self.per_page)
        return replace_query_param(url, "page", page)

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
                "links": {
                    "first": self._link(1),
                    "last": self._link(self.last_page),
                    "prev": self._link(self.page - 1) if self.page > 1 else None,
                    "next": self._link(self.page + 1) if self.page < self.last_page else None,
                },
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
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PER_PAGE,
                    "default": DEFAULT_PER_PAGE,
                },
            },
        ]
