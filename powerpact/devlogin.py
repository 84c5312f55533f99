"""Sandbox-only sign-in: mints the same App Bridge session tokens Shopify would.

Registered only outside production and only while shops are served by the
sandbox, so the embedded pages run one code path in the demo and in Shopify.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template, session, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore, StoreStatus
from powerpact.shopify.session_tokens import mint_session_token
from powerpact.shopify.signatures import is_shop_domain
from powerpact.shops import is_retail_shop

bp = Blueprint("devlogin", __name__)


def token_for(shop: str) -> str:
    settings = current_app.config["POWERPACT"]
    return mint_session_token(
        shop, api_key=settings.shopify_api_key, secret=settings.shopify_api_secret
    )


def home_of(shop: str) -> str:
    return url_for("admin.home") if is_retail_shop(shop) else url_for("orders.partner_orders")


@bp.get("/dev/login")
def login() -> str:
    retail = db.session.scalars(select(RetailStore)).all()
    partners = db.session.scalars(
        select(PartnerStore)
        .where(PartnerStore.status == StoreStatus.ACTIVE)
        .order_by(PartnerStore.name)
    ).all()
    return render_template("devlogin/login.html", retail=retail, partners=partners)


@bp.get("/dev/login/<shop>")
def login_as(shop: str) -> BaseResponse:
    if not is_shop_domain(shop):
        abort(404)
    session["dev_shop"] = shop
    query = urlencode({"shop": shop, "id_token": token_for(shop), "embedded": "1"})
    return redirect(f"{home_of(shop)}?{query}")


@bp.get("/dev/session-token")
def session_token() -> tuple[dict[str, str], int] | tuple[str, int, dict[str, str]]:
    shop = session.get("dev_shop")
    if not shop:
        return {"error": "sign in at /dev/login first"}, 401
    return token_for(shop), 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}
