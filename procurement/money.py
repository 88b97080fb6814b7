"""Purchase-order arithmetic as pure functions: Decimal only, half-up to the cent per line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    """Round to two places, halves away from zero (the way invoices are rounded, not banker's)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Amounts:
    """Subtotal, VAT and total of one line or of a whole order, each already rounded."""

    subtotal: Decimal
    vat_amount: Decimal
    total: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, vat_rate: Decimal) -> Amounts:
    """One line: subtotal = qty x price, VAT = subtotal x rate / 100, each rounded half-up.

    VAT is computed on the rounded subtotal so the printed subtotal and VAT always add up.
    """
    subtotal = round_money(quantity * unit_price)
    vat_amount = round_money(subtotal * vat_rate / HUNDRED)
    return Amounts(subtotal=subtotal, vat_amount=vat_amount, total=subtotal + vat_amount)


def order_amounts(lines: Iterable[Amounts]) -> Amounts:
    """Header totals are plain sums of the already-rounded lines (no second rounding)."""
    subtotal = vat_amount = ZERO
    for line in lines:
        subtotal += line.subtotal
        vat_amount += line.vat_amount
    return Amounts(subtotal=subtotal, vat_amount=vat_amount, total=subtotal + vat_amount)
