"""Quote arithmetic, computed by hand: tax-inclusive prices, discount in percent, every line rounded half
up to the cent, totals summed from the rounded lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.quotes.models import LineFigures, line_figures
from guanxi.quotes.pdf import amount_in_words

D = Decimal


def figures(quantity: str, price: str, discount: str = "0", rate: str = "13") -> LineFigures:
    return line_figures(
        quantity=D(quantity), unit_price=D(price), discount_percent=D(discount), tax_rate=D(rate)
    )


def test_a_plain_line_includes_its_vat() -> None:
    # 2 × 113.00 = 226.00, of which VAT 226 × 13 / 113 = 26.00
    line = figures("2", "113.00")
    assert line == LineFigures(amount=D("226.00"), discount=D("0.00"), total=D("226.00"), tax=D("26.00"))
    assert line.net == D("200.00")


def test_a_percent_discount_comes_off_the_rounded_amount() -> None:
    # 3 × 33.33 = 99.99; 15 % of it = 14.9985 → 15.00; total 84.99; VAT 84.99 × 13/113 = 9.7776… → 9.78
    line = figures("3", "33.33", "15")
    assert (line.amount, line.discount, line.total, line.tax) == (
        D("99.99"),
        D("15.00"),
        D("84.99"),
        D("9.78"),
    )


@pytest.mark.parametrize(
    "quantity,price,amount",
    [
        ("0.5", "0.01", "0.01"),  # 0.005 rounds up, not to even
        ("1.5", "0.03", "0.05"),  # 0.045 → 0.05 (half up; banker's would give 0.04)
        ("2.5", "0.05", "0.13"),  # 0.125 → 0.13
        ("0.333", "3.00", "1.00"),  # 0.999 → 1.00
        ("35.27", "7.89", "278.28"),  # a fuel fill-up: 278.2803 → 278.28
    ],
)
def test_the_amount_rounds_half_up_to_the_cent(quantity: str, price: str, amount: str) -> None:
    assert figures(quantity, price, rate="0").amount == D(amount)


def test_discount_and_vat_round_half_up_at_the_half_cent() -> None:
    # 10.10 × 5 % = 0.505 → 0.51 (half up); total 9.59
    assert figures("1", "10.10", "5", "0").discount == D("0.51")
    # VAT at 6 %: 10.60 × 6 / 106 = 0.60 exactly
    assert figures("1", "10.60", rate="6").tax == D("0.60")
    # At China's rates (13, 9, 6, 3, 1 %) VAT out of a whole-cent total never falls on half a cent
    # (26·T = 113·odd has no solution); a 100 % rate shows the rule: 0.05 × 100 / 200 = 0.025 → 0.03
    assert figures("1", "0.05", rate="100").tax == D("0.03")


def test_a_full_discount_leaves_nothing_to_pay() -> None:
    line = figures("4", "25.00", "100")
    assert (line.amount, line.discount, line.total, line.tax) == (
        D("100.00"),
        D("100.00"),
        D("0.00"),
        D("0.00"),
    )


def test_many_lines_sum_their_rounded_figures_not_the_raw_ones() -> None:
    # 300 lines of 1 × 0.01 with 50 % off: each discount 0.005 → 0.01, each total 0.00.
    # Rounding the sum instead would give a discount of 1.50 and a total of 1.50.
    lines = [figures("1", "0.01", "50", "0") for _ in range(300)]
    assert sum(line.discount for line in lines) == D("3.00")
    assert sum(line.total for line in lines) == D("0.00")
    # 7 lines of 1 × 1.00 at 13 %: VAT 0.115… → 0.12 each, 0.84 in all (rounding the sum: 0.81)
    vat = [figures("1", "1.00").tax for _ in range(7)]
    assert vat == [D("0.12")] * 7 and sum(vat) == D("0.84")


@pytest.mark.parametrize(
    "amount,words",
    [
        ("0", "零元整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("105", "壹佰零伍元整"),
        ("1005.20", "壹仟零伍元贰角"),
        ("10010", "壹万零壹拾元整"),
        ("100000", "壹拾万元整"),
        ("1000001", "壹佰万零壹元整"),
        ("0.05", "伍分"),
        ("12.05", "壹拾贰元零伍分"),
        ("8209.20", "捌仟贰佰零玖元贰角"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        ("100000000", "壹亿元整"),
        ("100010000", "壹亿零壹万元整"),
    ],
)
def test_the_amount_in_chinese_capitals(amount: str, words: str) -> None:
    assert amount_in_words(D(amount)) == words
