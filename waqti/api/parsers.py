"""The API's JSON parser: DRF's, refusing bodies nested too deeply or holding unstorable text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from waqti.api.exceptions import InvalidData

# Deepest nesting of arrays and objects a body may have. The API's deepest body (a purchase
# order's items) is 3 levels; anything near Python's recursion limit would fail later anyway
# (serializers, error rendering, the idempotency fingerprint all recurse).
MAX_DEPTH = 32

# What PostgreSQL cannot store in text (NUL) and what UTF-8 cannot encode (lone surrogates).
# Both can only enter a JSON document as ``\u`` escapes: raw ones are invalid JSON or UTF-8.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


class JsonParser(parsers.JSONParser):
    """DRF's ``JSONParser``; the body reaches it through Django's ``HttpRequest.body``, which
    refuses bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413 in ``waqti.api.errors``).

    - nesting deeper than ``MAX_DEPTH`` (or deep enough to exhaust the recursion limit while
      decoding) is a ``ParseError``: 400 ``Malformed request body.``;
    - a NUL or lone surrogate in any string, key or value, is a 422 naming where it is
      (``items.0.description``), with the texts of the field validators that refuse the same.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.getvalue() if hasattr(stream, "getvalue") else None
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_too_deep()) from exc
        # Each check walks the document; looking at the bytes first skips it for ordinary bodies.
        could_nest = raw is None or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH
        if could_nest and _depth(data) > MAX_DEPTH:
            raise ParseError(_too_deep())
        if raw is None or b"\\u" in raw:
            problem = _first_unstorable(data)
            if problem is not None:
                raise InvalidData({problem[0]: [problem[1]]})
        return data


def _too_deep() -> str:
    return _("The request body is nested more than %(depth)s levels deep.") % {"depth": MAX_DEPTH}


def _children(value: Any) -> Any:
    return value.values() if isinstance(value, Mapping) else value


def _depth(data: Any) -> int:
    """How many levels of arrays and objects ``data`` has, level by level (no recursion)."""
    depth, level = 0, [data]
    while level:
        containers = [value for value in level if isinstance(value, dict | list)]
        if not containers:
            break
        depth += 1
        if depth > MAX_DEPTH:
            break
        level = [child for container in containers for child in _children(container)]
    return depth


def _first_unstorable(data: Any) -> tuple[str, str] | None:
    """``(path, message)`` of a string (key or value) that cannot be stored, or None."""
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            message = _unstorable(value)
            if message is not None:
                return path or "non_field_errors", message
        elif isinstance(value, dict):
            entries = []
            for key, child in value.items():
                name = f"{path}.{key}" if path else key
                message = _unstorable(key)
                if message is not None:
                    # The key itself cannot be written back in the answer as it was sent.
                    return UNSTORABLE_TEXT.sub("\ufffd", name), message
                entries.append((name, child))
            pending.extend(reversed(entries))
        elif isinstance(value, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), child)
                for index, child in reversed(list(enumerate(value)))
            )
    return None


def _unstorable(text: str) -> str | None:
    """The message a field validator gives for ``text``, or None when it can be stored."""
    found = UNSTORABLE_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return str(ProhibitNullCharactersValidator.message)
    return str(ProhibitSurrogateCharactersValidator.message).format(code_point=ord(found.group()))
