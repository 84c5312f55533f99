"""A partner order's consolidated lines, what each retail line put in, and where a shipment goes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from powerpact.models import OrderSync, OrderSyncLine, PartnerLineShare, PartnerStore
from powerpact.orders import partner_lines, push
from powerpact.orders.partner_lines import Shipped, allocate, consolidate, slots_of, unit_prices

BAG = "gid://shopify/ProductVariant/11"
MUG = "gid://shopify/ProductVariant/12"


def line(n: int, variant: str | None = BAG, quantity: int = 1, price="12.00", discount="0"):
    return OrderSyncLine(
        bubbly_line_item_id=f"gid://shopify/LineItem/{n}",
        partner_variant_id=variant,
        title=f"Line {n}",
        quantity=quantity,
        fulfilled_quantity=0,
        partner_unit_price=Decimal(price),
        discount=Decimal(discount),
    )


def order(n: int, *lines: OrderSyncLine, currency: str = "USD") -> OrderSync:
    return OrderSync(
        id=n,
        bubbly_order_id=f"gid://shopify/Order/{n}",
        bubbly_order_name=f"#{1000 + n}",
        currency=currency,
        lines=list(lines),
    )


def test_thirty_orders_of_one_bag_are_one_line_of_thirty_with_thirty_shares():
    members = [order(n, line(n)) for n in range(1, 31)]
    (only,) = consolidate(members)
    assert (only.variant_id, only.unit_price, only.quantity) == (BAG, Decimal("12.00"), 30)
    assert [(s.order_sync_id, s.quantity) for s in only.shares] == [(n, 1) for n in range(1, 31)]
    assert only.retail_orders.startswith("#1001, #1002, ")


def test_a_variant_at_two_prices_is_two_lines_and_other_variants_keep_their_own():
    members = [
        order(1, line(1, quantity=2), line(2, MUG, price="8.00")),
        order(2, line(3, price="13.00")),  # the partner's price changed since order 1
        order(3, line(4, quantity=3)),
    ]
    lines = consolidate(members)
    assert [(pl.variant_id, pl.unit_price, pl.quantity) for pl in lines] == [
        (BAG, Decimal("12.00"), 5),
        (MUG, Decimal("8.00"), 1),
        (BAG, Decimal("13.00"), 1),
    ]
    assert lines[0].retail_orders == "#1001 (2), #1003 (3)"


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "currency", "expected"),
    [
        (3, "10.00", "1.00", "USD", [("9.67", 2), ("9.66", 1)]),
        (4, "10.00", "2.00", "USD", [("9.50", 4)]),
        (3, "1000", "1", "JPY", [("1000", 2), ("999", 1)]),
        (2, "0.00", "0", "USD", [("0.00", 2)]),
        (1, "5.00", "5.00", "USD", [("0.00", 1)]),
    ],
)
def test_a_discounted_line_is_priced_in_whole_cents_that_add_up_to_what_it_owes(
    quantity, price, discount, currency, expected
):
    retail = line(1, quantity=quantity, price=price, discount=discount)
    prices = unit_prices(retail, currency)
    assert [(str(p), n) for p, n in prices] == expected
    owed = Decimal(price) * quantity - Decimal(discount)
    assert sum((p * n for p, n in prices), Decimal(0)) == owed


def test_one_discounted_line_lands_on_two_partner_lines_and_its_shares_say_so():
    members = [order(1, line(1)), order(2, line(2, quantity=3, price="12.00", discount="1.00"))]
    lines = consolidate(members)
    assert [(pl.unit_price, pl.quantity) for pl in lines] == [
        (Decimal("12.00"), 1),
        (Decimal("11.67"), 2),
        (Decimal("11.66"), 1),
    ]
    assert [[(s.order_sync_id, s.quantity) for s in pl.shares] for pl in lines] == [
        [(1, 1)],
        [(2, 2)],
        [(2, 1)],
    ]


def test_a_line_with_no_partner_variant_cannot_be_consolidated():
    with pytest.raises(partner_lines.UnmappedLine, match="not mapped"):
        consolidate([order(1, line(1)), order(2, line(2, variant=None))])


retail_lines = st.lists(
    st.tuples(
        st.sampled_from([BAG, MUG]),
        st.integers(min_value=1, max_value=40),
        st.integers(min_value=0, max_value=50_000),  # partner price in cents
        st.integers(min_value=0, max_value=100),  # discount, percent of the line
    ),
    min_size=1,
    max_size=6,
)


@given(st.lists(retail_lines, min_size=1, max_size=8))
def test_the_lines_add_up_to_what_every_retail_line_owes_to_the_cent(orders):
    members = []
    for n, specs in enumerate(orders, start=1):
        lines = []
        for i, (variant, quantity, cents, percent) in enumerate(specs):
            price = Decimal(cents) / 100
            discount = (price * quantity * percent / 100).quantize(Decimal("0.01"))
            lines.append(line(n * 100 + i, variant, quantity, str(price), str(discount)))
        members.append(order(n, *lines))
    consolidated = consolidate(members)
    owed = sum(
        (partner_lines.owed(retail, "USD") for o in members for retail in o.lines), Decimal(0)
    )
    assert sum((pl.unit_price * pl.quantity for pl in consolidated), Decimal(0)) == owed
    assert len({(pl.variant_id, pl.unit_price) for pl in consolidated}) == len(consolidated)
    assert all(pl.unit_price == pl.unit_price.quantize(Decimal("0.01")) for pl in consolidated)
    put_in: dict[str, int] = {}
    for pl in consolidated:
        for share in pl.shares:
            put_in[share.retail_line_id] = put_in.get(share.retail_line_id, 0) + share.quantity
    assert put_in == {r.bubbly_line_item_id: r.quantity for o in members for r in o.lines}


def test_the_partner_order_total_is_the_sum_of_what_its_retail_orders_owe():
    members = [
        order(1, line(1, quantity=3, discount="1.00"), line(2, MUG, price="8.00")),
        order(2, line(3, quantity=2)),
    ]
    for member, shipping, tax in zip(members, ("4.00", "3.33"), ("1.20", "0.97"), strict=True):
        member.shipping_share, member.tax_share = Decimal(shipping), Decimal(tax)
        subtotal = sum((r.partner_unit_price * r.quantity for r in member.lines), Decimal(0))
        discount = sum((r.discount for r in member.lines), Decimal(0))
        member.total = subtotal - discount + member.shipping_share + member.tax_share
    partner = PartnerStore(shop_domain="alice-roasters.myshopify.com")
    lines = consolidate(members)
    sent = push.order_create_input(partner, members, "powerpact-batch-1", None, lines)

    def amount(money):
        return Decimal(money["shopMoney"]["amount"])

    total = sum((amount(i["priceSet"]) * i["quantity"] for i in sent["lineItems"]), Decimal(0))
    total += amount(sent["shippingLines"][0]["priceSet"]) + amount(sent["taxLines"][0]["priceSet"])
    assert total == sum((m.total for m in members), Decimal(0)) == Decimal("76.50")
    assert [(i["variantId"], i["quantity"]) for i in sent["lineItems"]] == [
        (BAG, 2),
        (BAG, 1),
        (MUG, 1),
        (BAG, 2),
    ]
    assert sent["lineItems"][0]["properties"] == [{"name": "Retail order", "value": "#1001 (2)"}]


def share(n: int, order_sync_id: int, quantity: int, price="12.00", variant=BAG, fulfilled=0):
    return PartnerLineShare(
        id=n,
        order_sync_id=order_sync_id,
        bubbly_line_item_id=f"gid://shopify/LineItem/{order_sync_id}",
        partner_variant_id=variant,
        unit_price=Decimal(price),
        quantity=quantity,
        fulfilled_quantity=fulfilled,
    )


def test_a_partial_shipment_goes_to_the_oldest_retail_orders_and_the_next_goes_on_from_there():
    shares = [share(n, n, 1) for n in range(1, 31)]
    slots = slots_of(shares, [])
    first = allocate(slots, [Shipped(BAG, Decimal("12.00"), 10)])
    assert sorted(first) == list(range(1, 11))
    assert first[3] == {"gid://shopify/LineItem/3": 1}
    assert [s.fulfilled_quantity for s in shares] == [1] * 10 + [0] * 20

    rest = allocate(slots_of(shares, []), [Shipped(BAG, Decimal("12.00"), 20)])
    assert sorted(rest) == list(range(11, 31))
    assert all(s.fulfilled_quantity == s.quantity for s in shares)


def test_a_shipment_of_one_price_line_reaches_only_the_retail_lines_in_that_line():
    shares = [share(1, 1, 2), share(2, 2, 2, price="11.67"), share(3, 3, 1)]
    plan = allocate(slots_of(shares, []), [Shipped(BAG, Decimal("11.67"), 2)])
    assert plan == {2: {"gid://shopify/LineItem/2": 2}}
    # a price no share has (a line Shopify priced), or none at all: by variant, oldest first
    plan = allocate(slots_of(shares, []), [Shipped(BAG, Decimal("99.00"), 2)])
    assert plan == {1: {"gid://shopify/LineItem/1": 2}}
    plan = allocate(slots_of(shares, []), [Shipped(BAG, None, 5), Shipped(MUG, None, 1)])
    assert plan == {3: {"gid://shopify/LineItem/3": 1}}


def test_an_order_sent_before_shares_were_kept_is_allocated_by_its_lines_as_before():
    members = [order(2, line(20, quantity=2)), order(1, line(10, quantity=1), line(11, MUG))]
    members[0].lines[0].fulfilled_quantity = 1
    plan = allocate(slots_of([], members), [Shipped(BAG, Decimal("12.00"), 3)])
    assert plan == {1: {"gid://shopify/LineItem/10": 1}, 2: {"gid://shopify/LineItem/20": 1}}
