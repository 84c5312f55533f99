"""Issue #18, findings 7 and 10: how long a session token lives, and what it opens after an
uninstall. Shopify's tokens live one minute; one minted before the shop uninstalled
PowerPact must not reinstall it (a reinstall takes OAuth or a token minted since)."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest

from powerpact.db_types import utcnow
from powerpact.models import StoreStatus
from powerpact.shopify.session_tokens import (
    MAX_LIFETIME_SECONDS,
    InvalidSessionToken,
    decode_session_token,
    mint_session_token,
)
from tests.factories import PartnerStoreFactory
from tests.shopify.test_tokens import SHOP, TOKEN_URL, after_install_answers


def decode(app, token: str):
    settings = app.config["POWERPACT"]
    return decode_session_token(
        token, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
    )


def mint(app, shop: str = SHOP, **options) -> str:
    settings = app.config["POWERPACT"]
    return mint_session_token(
        shop, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret, **options
    )


def test_a_token_living_the_longest_allowed_is_accepted(app):
    assert decode(app, mint(app, lifetime=MAX_LIFETIME_SECONDS)).shop == SHOP


@pytest.mark.parametrize("lifetime", [MAX_LIFETIME_SECONDS + 1, 3600, 365 * 86400])
def test_a_token_living_longer_than_shopifys_is_refused(app, lifetime):
    with pytest.raises(InvalidSessionToken, match="lives"):
        decode(app, mint(app, lifetime=lifetime))


def test_a_token_without_iat_is_refused(app):
    claims = jwt.decode(mint(app), options={"verify_signature": False})
    del claims["iat"]
    token = jwt.encode(claims, app.config["POWERPACT"].shopify_api_secret, algorithm="HS256")
    with pytest.raises(InvalidSessionToken, match="iat"):
        decode(app, token)


def test_a_long_lived_token_opens_no_page(as_shop, personas):
    response = as_shop("/partner/orders", personas.alice, lifetime=24 * 3600)
    assert response.status_code == 401


def test_a_token_minted_before_the_uninstall_does_not_reinstall_the_shop(
    client, app, db_session, shopify
):
    """Even where Shopify would grant the token exchange (the sandbox does)."""
    carol = PartnerStoreFactory(shop_domain=SHOP, uninstalled=True)
    after_install_answers(shopify)
    shopify.mock.post(TOKEN_URL, json={"access_token": "shpat_again", "scope": "write_orders"})
    minted_before = mint(app, now=time.time() - 30)
    response = client.get(
        "/partner/orders",
        headers={"Authorization": f"Bearer {minted_before}", "HX-Request": "true"},
    )
    assert response.status_code == 401
    assert len(shopify.mock.calls) == 0, "no token exchange was tried"
    db_session.refresh(carol)
    assert carol.status == StoreStatus.DISABLED and carol.access_token is None


def test_a_token_minted_since_the_uninstall_reinstalls_by_token_exchange(
    client, app, db_session, shopify
):
    carol = PartnerStoreFactory(shop_domain=SHOP, uninstalled=True)
    carol.uninstall_date = utcnow() - timedelta(seconds=5)
    db_session.flush()
    after_install_answers(shopify)
    shopify.mock.post(TOKEN_URL, json={"access_token": "shpat_again", "scope": "write_orders"})
    response = client.get(
        "/partner/orders", headers={"Authorization": f"Bearer {mint(app)}", "HX-Request": "true"}
    )
    assert response.status_code == 200
    db_session.refresh(carol)
    assert carol.status == StoreStatus.ACTIVE and carol.access_token == "shpat_again"
    assert carol.uninstall_date is None
