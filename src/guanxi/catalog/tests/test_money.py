"""Money and quantities parsed from what people type and machines send."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.catalog.money import NotANumber, money_text, places, quantity_text, round_money, to_decimal


@pytest.mark.parametrize(
    "value,expected",
    [
        ("12.50", Decimal("12.50")),
        ("￥１，２３４.５", Decimal("1234.5")),
        ("¥ 88", Decimal("88")),
        ("300元", Decimal("300")),
        (7, Decimal("7")),
        (0.1, Decimal("0.1")),
        (Decimal("3.10"), Decimal("3.10")),
    ],
)
def test_to_decimal_reads_money_as_written(value: object, expected: Decimal) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", ["", "abc", "1.2.3", "NaN", "Infinity", True, None, [1]])
def test_to_decimal_refuses_what_is_no_number(value: object) -> None:
    with pytest.raises(NotANumber):
        to_decimal(value)


def test_places_ignore_trailing_zeros() -> None:
    assert [places(Decimal(v)) for v in ("1", "1.50", "1.005", "100", "1E+2")] == [0, 1, 3, 0, 0]


def test_round_money_rounds_half_up() -> None:
    assert [round_money(Decimal(v)) for v in ("278.2803", "0.005", "0.0049", "2.675")] == [
        Decimal("278.28"),
        Decimal("0.01"),
        Decimal("0.00"),
        Decimal("2.68"),
    ]


def test_texts() -> None:
    assert money_text(Decimal("1234.5")) == "¥1,234.50"
    assert money_text(Decimal("-50")) == "-¥50.00"
    assert money_text(None) == ""
    assert [quantity_text(Decimal(v)) for v in ("35.270", "2.000", "100.000")] == ["35.27", "2", "100"]
