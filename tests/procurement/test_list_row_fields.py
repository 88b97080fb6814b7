"""The fast list's declared outputs are the serializers' fields, in their order."""

from __future__ import annotations

from procurement.list_rows import LINE_COLUMNS, LINE_OUTPUT, ORDER_COLUMNS, ORDER_OUTPUT
from procurement.models import ITEM_FIELDS
from procurement.serializers import PurchaseOrderSerializer


def _top_level(outputs) -> list[str]:
    names: list[str] = []
    for out in outputs:
        outer = out.name.partition(".")[0]
        if outer not in names:
            names.append(outer)
    return names


def test_list_row_outputs_are_the_serializer_fields_in_order():
    fields = PurchaseOrderSerializer().fields
    assert _top_level(ORDER_OUTPUT) == list(fields)
    assert _top_level(LINE_OUTPUT) == list(ITEM_FIELDS)
    for reference in ("vendor", "department"):
        nested = [
            out.name.partition(".")[2]
            for out in ORDER_OUTPUT
            if out.name.startswith(f"{reference}.")
        ]
        assert nested == list(fields[reference].fields)


def test_list_row_columns_come_from_the_outputs():
    assert len(ORDER_COLUMNS) == len(ORDER_OUTPUT) - 1  # items are the lines, not a column
    assert LINE_COLUMNS[1:] == tuple((out.model, out.field) for out in LINE_OUTPUT)
