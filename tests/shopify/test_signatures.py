"""Our HMAC code agrees with ShopifyAPI's own implementation (an independent one)."""

import time

import pytest
import shopify
from hypothesis import given
from hypothesis import strategies as st

from powerpact.shopify.signatures import (
    is_shop_domain,
    oauth_hmac,
    verify_oauth_query,
    verify_webhook,
    webhook_hmac,
)

SECRET = "hush-this-is-the-app-secret"


@pytest.fixture
def shopify_session_secret():
    shopify.Session.setup(api_key="key", secret=SECRET)
    yield
    shopify.Session.setup(api_key=None, secret=None)


@given(
    st.dictionaries(
        st.text(
            alphabet=st.characters(categories=["L", "N"]) | st.sampled_from("&=%_"), min_size=1
        ),
        st.text(
            alphabet=st.characters(categories=["L", "N", "P", "Zs"]) | st.sampled_from("&=%"),
            max_size=30,
        ),
        max_size=6,
    )
)
def test_oauth_hmac_matches_shopifyapi(params):
    shopify.Session.secret = SECRET
    try:
        params = {k: v for k, v in params.items() if k not in ("hmac", "signature")}
        assert oauth_hmac(SECRET, params) == shopify.Session.calculate_hmac(params)
    finally:
        shopify.Session.secret = None


def signed(params):
    return {**params, "hmac": oauth_hmac(SECRET, params)}


def test_a_fresh_genuine_callback_verifies(shopify_session_secret):
    params = signed(
        {
            "code": "abc",
            "shop": "roaster.myshopify.com",
            "state": "s",
            "timestamp": str(int(time.time())),
        }
    )
    assert verify_oauth_query(SECRET, params) is None
    assert shopify.Session.validate_hmac(params)


def fresh_params():
    now = str(int(time.time()))
    return {"code": "abc", "shop": "roaster.myshopify.com", "state": "s", "timestamp": now}


@pytest.mark.parametrize(
    ("change", "resign", "reason"),
    [
        ({"hmac": "0" * 64}, False, "hmac does not match"),
        ({"code": "other"}, False, "hmac does not match"),
        ({"timestamp": "100"}, True, "timestamp is stale"),
        ({"timestamp": "soon"}, True, "timestamp missing"),
        ({"shop": "evil.com"}, True, "shop is not a myshopify.com domain"),
    ],
)
def test_tampered_or_stale_callbacks_are_refused(change, resign, reason):
    params = {**signed(fresh_params()), **change}
    if resign:
        params = signed({k: v for k, v in params.items() if k != "hmac"})
    assert verify_oauth_query(SECRET, params) == reason


def test_webhook_hmac_is_base64_sha256_and_compared_whole():
    body = b'{"id": 1}'
    good = webhook_hmac(SECRET, body)
    assert verify_webhook(SECRET, body, good)
    assert verify_webhook(SECRET, body, f" {good} ")
    assert not verify_webhook(SECRET, body, good[:-2])
    assert not verify_webhook(SECRET, body + b" ", good)
    assert not verify_webhook(SECRET, body, None)


@pytest.mark.parametrize(
    "domain",
    [
        "roaster.myshopify.com",
        "a.myshopify.com",
        "Bubbly-Retail.myshopify.com",
        "r2d2.myshopify.com",
        "a" * 63 + ".myshopify.com",  # a DNS label holds 63 characters at most
    ],
)
def test_shop_domains_accepted(domain):
    assert is_shop_domain(domain)


@pytest.mark.parametrize(
    "domain",
    [
        "evil.com",
        "x.myshopify.com.evil.com",
        "-x.myshopify.com",
        "x.myshopify.com/admin",
        "x.myshopify.com:443",
        "x.myshopify.com\n",
        "https://x.myshopify.com",
        "x.myshopify.com".replace("o", "\u043e"),  # Cyrillic o look-alike
        "\u217d.myshopify.com",  # small roman numeral look-alike
        "",
        None,
        "x_y.myshopify.com",
        "a" * 64 + ".myshopify.com",
        "a" * 250 + ".myshopify.com",  # over 255 characters in all
    ],
)
def test_hostile_shop_domains_refused(domain):
    assert not is_shop_domain(domain)
