"""``bench orders``: N retail orders over P partners, captured and pushed to the partners."""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from decimal import Decimal

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from powerpact.bench.harness import (
    RETAIL,
    bench_world,
    rate_limit_bound,
    run_in_processes,
    split_evenly,
)
from powerpact.extensions import db
from powerpact.models import OrderStatus, OrderSync, ProductMap
from powerpact.orders import push
from powerpact.orders.capture import parse_order, record_order
from powerpact.sandbox import place_order
from powerpact.shopify.clients import client_for

PRODUCTS_PER_PARTNER = 5


@click.command("orders")
@click.option("--partners", default=10, show_default=True, type=int)
@click.option("--orders", "order_count", default=1000, show_default=True, type=int)
@click.option(
    "--plan",
    default="enterprise",
    show_default=True,
    type=click.Choice(["standard", "advanced", "plus", "enterprise"]),
)
@click.option(
    "--processes",
    default=os.cpu_count() or 1,
    show_default="the cores",
    type=click.IntRange(min=1),
    help="Worker processes that share the partners (each sends its partners in threads).",
)
@with_appcontext
def orders_command(partners: int, order_count: int, plan: str, processes: int) -> None:
    """Place orders, capture them, push every partner's in parallel; count and time it all."""
    rng = random.Random(11)  # noqa: S311 (benchmark data)
    with bench_world(plan) as world:
        retail, _ = world.install(RETAIL, "Bench Retail", retail=True, plan="plus")
        skus: dict[str, list[str]] = {}
        for index in range(partners):
            domain = f"bench-partner-{index:03d}.myshopify.com"
            partner, _ = world.install(domain, f"Bench Partner {index}")
            for n in range(PRODUCTS_PER_PARTNER):
                spec = {
                    "title": f"Roast {index}-{n}",
                    "variants": [{"sku": f"B{index}-{n}", "price": "12.00", "stock": 100000}],
                }
                source = world.sandbox.add_product(partner, spec)
                copy = world.sandbox.add_product(
                    retail,
                    {
                        **spec,
                        "variants": [
                            {"sku": f"PARTNER-B{index}-{n}", "price": "16.00", "stock": 100000}
                        ],
                    },
                )
                db.session.add(
                    ProductMap(
                        partner_shop_domain=domain,
                        partner_product_id=source.id,
                        partner_variant_id=source.variants[0].id,
                        partner_price=Decimal("12.00"),
                        bubbly_product_id=copy.id,
                        bubbly_variant_id=copy.variants[0].id,
                        bubbly_sku=copy.variants[0].sku,
                    )
                )
                skus.setdefault(domain, []).append(copy.variants[0].sku or "")
        db.session.commit()
        domains = sorted(skus)
        order_ids = []
        for _ in range(order_count):
            chosen = rng.sample(domains, rng.randint(1, min(3, len(domains))))
            lines = [{"sku": rng.choice(skus[d]), "quantity": rng.randint(1, 3)} for d in chosen]
            order_ids.append(
                place_order(
                    world.sandbox, retail, {"lines": lines, "shipping": "7.50", "tax_rate": "0.08"}
                ).id
            )
        retail_client = client_for(world.app_retail())
        for order_id in order_ids:
            node = retail_client.execute("OrderForSync", {"id": order_id})["order"]
            record_order(parse_order(node))
            db.session.commit()
        partner_orders = db.session.scalar(select(func.count()).select_from(OrderSync))
        for shop in domains:
            world.sandbox.calls[shop].clear()

        def push_one(domain: str) -> dict[str, int]:
            with world.app.app_context():
                return push.push_partner(domain)

        db.session.remove()
        with world.sandbox_in_own_process() as meter:
            started = time.perf_counter()
            workers_cpu = run_in_processes(world.app, split_evenly(domains, processes), push_one)
            wall = time.perf_counter() - started
            cpu = meter.stop(powerpact_children=workers_cpu)
            summaries = world.call_summaries(domains)
            created = Counter(
                order["source_identifier"] for domain in domains for order in world.orders(domain)
            )
        costs = {shop: summary["actual_cost"] for shop, summary in summaries.items()}
        bound = rate_limit_bound(costs, world.sandbox)
        click.echo(
            json.dumps(
                {
                    "benchmark": "orders",
                    "partners": partners,
                    "orders": order_count,
                    "processes": min(processes, partners),
                    "partner_orders_expected": partner_orders,
                    "partner_orders_created": sum(created.values()),
                    "duplicates": sum(n - 1 for n in created.values() if n > 1),
                    "synced": db.session.scalar(
                        select(func.count())
                        .select_from(OrderSync)
                        .where(OrderSync.status == OrderStatus.SYNCED)
                    ),
                    "api_calls": sum(s["calls"] for s in summaries.values()),
                    "throttled": sum(s["throttled"] for s in summaries.values()),
                    "actual_cost": sum(costs.values()),
                    "wall_seconds": round(wall, 3),
                    "rate_limit_bound_seconds": round(bound, 3),
                    "time_ratio": round(wall / bound, 3) if bound else None,
                    **cpu,
                    "cpu_floor_ratio": round(wall / cpu["cpu_floor_seconds"], 3)
                    if cpu["cpu_floor_seconds"]
                    else None,
                },
                indent=2,
            )
        )
