from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from powerpact.money import MoneyError, allocate, minor_digits, quantum, round_money, to_decimal

CURRENCIES = ["USD", "JPY", "KWD", "EUR"]


@st.composite
def allocations(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    units = draw(st.integers(min_value=-(10**9), max_value=10**9))
    weights = draw(
        st.lists(
            st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
            min_size=1,
            max_size=12,
        )
    )
    return units * quantum(currency), weights, currency


@given(allocations())
def test_parts_sum_exactly_and_stay_within_one_unit_of_their_quota(case):
    total, weights, currency = case
    parts = allocate(total, weights, currency)
    assert sum(parts) == total
    step = quantum(currency)
    whole = sum(Fraction(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part == part.quantize(step)
        exact = Fraction(total) * (Fraction(weight) / whole if whole else Fraction(1, len(weights)))
        assert abs(Fraction(part) - exact) < Fraction(step)


def test_known_split_hands_leftover_cents_to_largest_remainders():
    assert allocate(Decimal("10.00"), [Decimal(1)] * 3, "USD") == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert allocate(Decimal("1.00"), [Decimal("0.7"), Decimal("0.3")], "USD") == [
        Decimal("0.70"),
        Decimal("0.30"),
    ]


def test_zero_decimal_currencies_split_in_whole_units():
    assert allocate(Decimal("100"), [Decimal(1), Decimal(2)], "JPY") == [Decimal(33), Decimal(67)]


def test_all_zero_weights_split_evenly():
    assert allocate(Decimal("0.03"), [Decimal(0), Decimal(0)], "USD") == [
        Decimal("0.02"),
        Decimal("0.01"),
    ]


def test_refusals():
    with pytest.raises(MoneyError, match="minor units"):
        allocate(Decimal("1.005"), [Decimal(1)], "USD")
    with pytest.raises(MoneyError, match="negative"):
        allocate(Decimal("1.00"), [Decimal(-1)], "USD")
    with pytest.raises(MoneyError, match="no parts"):
        allocate(Decimal("1.00"), [], "USD")
    assert allocate(Decimal("0"), [], "USD") == []
    with pytest.raises(MoneyError, match="float"):
        to_decimal(1.5)
    with pytest.raises(MoneyError, match="not an amount"):
        to_decimal("NaN")
    with pytest.raises(MoneyError, match="not an amount"):
        to_decimal("ten")


def test_minor_units_and_rounding():
    assert [minor_digits(c) for c in ("usd", "JPY", "KWD")] == [2, 0, 3]
    assert round_money(Decimal("2.675"), "USD") == Decimal("2.68")
    assert round_money(Decimal("2.665"), "USD") == Decimal("2.66")
