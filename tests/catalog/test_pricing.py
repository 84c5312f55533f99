from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from powerpact.catalog.pricing import (
    MAX_FIXED_MARKUP,
    MAX_MIN_MARGIN,
    InvalidRule,
    MarkupKind,
    MarkupRule,
    Rounding,
    retail_price,
    saved_rule,
)
from powerpact.money import quantum

D = Decimal

rules = st.builds(
    MarkupRule,
    kind=st.sampled_from(list(MarkupKind)),
    value=st.decimals(min_value=0, max_value=300, places=2),
    rounding=st.sampled_from(list(Rounding)),
    keep_compare_at=st.booleans(),
    min_margin_percent=st.decimals(min_value=0, max_value=90, places=1),
)
prices = st.decimals(min_value=0, max_value=10_000, places=2)


@given(prices, rules, st.sampled_from(["USD", "EUR", "JPY"]))
def test_rounding_never_breaks_the_minimum_margin_and_never_lowers_a_price(price, rule, currency):
    result = retail_price(price, rule, currency).price
    assert result >= price
    if result > 0:
        assert (result - price) / result * 100 >= rule.min_margin_percent
    if rule.kind == MarkupKind.PERCENTAGE:
        assert result >= price * (1 + rule.value / 100)
    else:
        assert result >= price + rule.value
    assert result == result.quantize(quantum(currency))


@given(prices, rules)
def test_endings_are_what_the_rule_asks_and_cost_at_most_one_unit(price, rule):
    raw_floor = retail_price(
        price, MarkupRule(**{**rule.__dict__, "rounding": Rounding.NONE}), "USD"
    )
    result = retail_price(price, rule, "USD").price
    assert result - raw_floor.price < 1
    cents = result % 1
    if rule.rounding == Rounding.TO_99:
        assert cents == D("0.99")
    elif rule.rounding == Rounding.TO_95:
        assert cents == D("0.95")
    elif rule.rounding == Rounding.WHOLE:
        assert cents == 0


@given(prices, st.decimals(min_value=0, max_value=10_000, places=2), rules)
def test_compare_at_is_marked_up_the_same_way_and_only_kept_above_the_price(price, compare, rule):
    result = retail_price(price, rule, "USD", partner_compare_at=compare)
    if result.compare_at is not None:
        assert rule.keep_compare_at
        assert result.compare_at > result.price
        assert result.compare_at == retail_price(compare, rule, "USD").price


def test_known_prices():
    rule = MarkupRule(value=D(30), rounding=Rounding.TO_99)
    assert retail_price(D("12.00"), rule, "USD").price == D("15.99")
    assert retail_price(D("12.30"), rule, "USD").price == D("15.99")
    assert retail_price(D("12.31"), rule, "USD").price == D("16.99")
    fixed = MarkupRule(kind=MarkupKind.FIXED, value=D("4.50"))
    assert retail_price(D("10.00"), fixed, "USD").price == D("14.50")
    floor = MarkupRule(value=D(5), min_margin_percent=D(20))
    assert retail_price(D("10.00"), floor, "USD").price == D("12.50")
    assert retail_price(D("1000"), MarkupRule(rounding=Rounding.TO_99), "JPY").price == D(1300)
    keep = retail_price(D("10"), MarkupRule(), "USD", partner_compare_at=D("12"))
    assert keep.compare_at == D("15.60")
    drop = retail_price(
        D("10"), MarkupRule(keep_compare_at=False), "USD", partner_compare_at=D("12")
    )
    assert drop.compare_at is None


def test_rules_round_trip_through_json_and_describe_themselves():
    rule = MarkupRule(value=D("25"), rounding=Rounding.TO_95, min_margin_percent=D("15"))
    assert MarkupRule.from_dict(rule.to_dict()) == rule
    assert rule.describe() == "25%, ending .95, at least 15% margin"
    assert MarkupRule.from_dict(None) == MarkupRule()
    assert MarkupRule.from_dict({"value": "40%", "keep_compare_at": "off"}).value == D(40)
    assert MarkupRule(kind=MarkupKind.FIXED, value=D("2.00")).describe() == "+2.00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "-5"}, "cannot be negative"),
        ({"value": "5000"}, "typo"),
        ({"value": "abc"}, "must be a number"),
        ({"value": "Infinity"}, "must be a number"),
        ({"value": 1.5}, "not a float"),
        ({"min_margin_percent": "100"}, "below 100%"),
        ({"min_margin_percent": "99.99999999999999999999999999"}, "below 100%"),
        ({"kind": "fixed", "value": "1e309"}, "written plainly"),
        ({"kind": "fixed", "value": "9" * 10_240}, "1,000,000,000"),
        ({"kind": "fixed", "value": "1E+999999999"}, "written plainly"),
        ({"value": "nan"}, "must be a number"),
        ({"value": "1e999999999999999999"}, "written plainly"),
        ({"kind": "double"}, "Unknown choice"),
        ({"rounding": "nearest"}, "Unknown choice"),
    ],
)
def test_bad_rules_say_what_to_fix(data, message):
    with pytest.raises(InvalidRule, match=message):
        MarkupRule.from_dict(data)


def test_negative_partner_price_is_refused():
    with pytest.raises(InvalidRule):
        retail_price(D("-1"), MarkupRule(), "USD")


# Any rule the limits let through, on any price Shopify can hold, prices without an error.
def rules_within_the_limits(kind: MarkupKind, most: Decimal) -> st.SearchStrategy[MarkupRule]:
    return st.builds(
        MarkupRule,
        kind=st.just(kind),
        value=st.decimals(min_value=0, max_value=most, allow_nan=False),
        rounding=st.sampled_from(list(Rounding)),
        keep_compare_at=st.booleans(),
        min_margin_percent=st.decimals(min_value=0, max_value=MAX_MIN_MARGIN, allow_nan=False),
    )


limit_rules = rules_within_the_limits(MarkupKind.PERCENTAGE, D(1000)) | rules_within_the_limits(
    MarkupKind.FIXED, MAX_FIXED_MARKUP
)


@given(
    st.decimals(min_value=0, max_value=10**12, places=2),
    limit_rules,
    st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_a_rule_within_the_limits_prices_anything_without_an_error(price, rule, currency):
    result = retail_price(price, rule, currency, partner_compare_at=price * 2 + 1)
    assert result.price.is_finite() and result.price >= price


def test_a_saved_rule_that_breaks_the_limits_reads_as_the_default_with_the_reason():
    assert saved_rule({"kind": "fixed", "value": "5"}) == (
        MarkupRule(kind=MarkupKind.FIXED, value=D(5)),
        None,
    )
    rule, problem = saved_rule({"kind": "fixed", "value": "10000000000"})
    assert rule == MarkupRule()
    assert "1,000,000,000" in problem and "saved markup" in problem


@pytest.mark.parametrize("typed", ["1e3", "1E2", "nan", "inf", "-inf", "0x10", "1_000", "٣"])
def test_only_plain_decimal_numbers_are_read_as_a_markup(typed):
    with pytest.raises(InvalidRule, match="written plainly"):
        MarkupRule.from_dict({"value": typed})
    with pytest.raises(InvalidRule, match="written plainly"):
        MarkupRule.from_dict({"value": "10", "min_margin_percent": typed})


@pytest.mark.parametrize("typed", ["30", " 12.5 ", "12.5%", "0.0000001", ".5", "7."])
def test_plain_decimal_numbers_are_read_and_survive_a_round_trip(typed):
    rule = MarkupRule.from_dict({"value": typed, "min_margin_percent": typed})
    assert MarkupRule.from_dict(rule.to_dict()) == rule


def test_a_rule_saved_in_exponent_notation_still_reads_but_cannot_be_typed():
    """``str(Decimal)`` wrote ``1E-7`` for a typed 0.0000001 before typed numbers were plain."""
    stored = {"kind": "percentage", "value": "3E+1", "min_margin_percent": "1E-7"}
    assert MarkupRule.from_dict(stored, saved=True) == MarkupRule(
        value=D(30), min_margin_percent=D("0.0000001")
    )
    assert saved_rule(stored)[1] is None
    with pytest.raises(InvalidRule, match="written plainly"):
        MarkupRule.from_dict(stored)
    with pytest.raises(InvalidRule, match="1,000,000,000"):
        MarkupRule.from_dict({"kind": "fixed", "value": "1E+309"}, saved=True)
