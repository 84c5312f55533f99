"""Properties: paging a connection visits every item once; a split adds up to the cent."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from powerpact.sandbox.orders import allocate
from powerpact.sandbox.shapes import connection


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=25))
def test_paging_forward_visits_every_item_once(count, size):
    items = list(range(count))
    seen, after = [], None
    while True:
        page = connection(items, lambda i: {"n": i}, first=size, after=after)
        seen += [n["n"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == items


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=25))
def test_paging_backward_visits_every_item_once(count, size):
    items = list(range(count))
    seen, before = [], None
    while True:
        page = connection(items, lambda i: {"n": i}, last=size, before=before)
        seen = [n["n"] for n in page["nodes"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == items


@given(
    st.decimals(min_value=0, max_value=1000, places=2),
    st.lists(st.decimals(min_value=0, max_value=500, places=2), min_size=1, max_size=8),
)
def test_a_split_adds_up_to_the_cent(total, weights):
    parts = allocate(total, weights)
    assert sum(parts, Decimal(0)) == total
    assert len(parts) == len(weights)
