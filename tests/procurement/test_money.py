"""The purchase-order arithmetic on awkward values (pure functions, no database)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from procurement.money import Amounts, line_amounts, order_amounts, round_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004999", "0.00"),
        ("2.675", "2.68"),
        ("-2.675", "-2.68"),
        ("100.005", "100.01"),
        ("15.0015", "15.00"),
        ("7", "7.00"),
    ],
)
def test_round_money_rounds_half_up_to_two_places(value, expected):
    assert str(round_money(D(value))) == expected


def test_line_amounts_three_times_33_335_at_15_percent():
    # 3 x 33.335 = 100.005 -> 100.01 (half up, not banker's 100.00); VAT 15.0015 -> 15.00.
    assert line_amounts(D("3"), D("33.335"), D("15")) == Amounts(
        D("100.01"), D("15.00"), D("115.01")
    )


def test_line_amounts_vat_is_taken_on_the_rounded_subtotal():
    # 0.333 x 0.5 = 0.1665 -> 0.17; VAT 5% of 0.17 = 0.0085 -> 0.01 (of 0.1665 it would be 0.00833).
    assert line_amounts(D("0.333"), D("0.5"), D("5")) == Amounts(D("0.17"), D("0.01"), D("0.18"))


@pytest.mark.parametrize(
    ("quantity", "price", "rate", "expected"),
    [
        ("1", "45000", "15", ("45000.00", "6750.00", "51750.00")),
        ("2.5", "0.0001", "15", ("0.00", "0.00", "0.00")),
        ("1.005", "1", "0", ("1.01", "0.00", "1.01")),
        ("12.345", "6.7891", "15", ("83.81", "12.57", "96.38")),
        ("1", "0", "15", ("0.00", "0.00", "0.00")),
        # (1e9 - 0.001) x (1e5 - 0.0001) = 1e14 - 1e5 - 100 + 1e-7: no float-style drift.
        (
            "999999999.999",
            "99999.9999",
            "100",
            ("99999999899900.00", "99999999899900.00", "199999999799800.00"),
        ),
    ],
)
def test_line_amounts_table(quantity, price, rate, expected):
    amounts = line_amounts(D(quantity), D(price), D(rate))
    assert (str(amounts.subtotal), str(amounts.vat_amount), str(amounts.total)) == expected


def test_order_amounts_sum_rounded_lines_without_rounding_again():
    lines = [line_amounts(D("3"), D("33.335"), D("15")), line_amounts(D("1"), D("0.005"), D("15"))]
    # Lines: 100.01 + 15.00 and 0.01 + 0.00 (0.0015 VAT rounds down).
    assert order_amounts(lines) == Amounts(D("100.02"), D("15.00"), D("115.02"))


def test_order_amounts_of_nothing_is_zero_with_two_places():
    assert str(order_amounts([]).total) == "0.00"
