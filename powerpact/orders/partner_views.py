"""The partner's own pages, embedded in the partner's Shopify admin."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, render_template
from sqlalchemy import select

from powerpact.auth import embedded
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import OrderSync

bp = Blueprint("partner", __name__, url_prefix="/partner")
WINDOW = timedelta(days=30)


@bp.get("/orders")
@embedded("partner")
def orders():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(
        select(OrderSync)
        .where(
            OrderSync.partner_shop_domain == g.shop.shop_domain,
            OrderSync.created_at >= utcnow() - WINDOW,
        )
        .order_by(OrderSync.created_at.desc())
        .limit(25)
    ).all()
    return render_template("partner/orders.html", partner=g.shop, orders=rows)
