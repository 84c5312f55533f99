"""``bench inventory``: a full stock sync of P partners with V mapped variants each."""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import insert

from powerpact.bench.harness import RETAIL, bench_world, ceil_div, rate_limit_bound
from powerpact.extensions import db
from powerpact.inventory.sync import PAGE, sync_partner_inventory
from powerpact.models import ProductMap

VARIANTS_PER_PRODUCT = 5


def locations(world, name: str, count: int) -> list[dict]:
    return [
        {"id": world.sandbox.store.ids.gid("Location"), "name": f"{name} {n + 1}", "isActive": True}
        for n in range(count)
    ]


def build_partner(world, index: int, variants: int, rng: random.Random) -> list[dict]:
    """A partner with ``variants`` variants, imported onto the retail store (maps included).

    Every other partner stocks at two locations (its stock counts as their sum); the retail
    store keeps some of each imported variant at its second location too, so the sync must
    compare at its chosen location, never against the variant's total.
    """
    domain = f"bench-partner-{index:03d}.myshopify.com"
    name = f"Bench Partner {index}"
    places = 2 if index % 2 else 1
    partner, _ = world.install(domain, name, locations=locations(world, name, places))
    retail = world.sandbox.shop(RETAIL)
    maps = []
    for start in range(0, variants, VARIANTS_PER_PRODUCT):
        count = min(VARIANTS_PER_PRODUCT, variants - start)
        spec: dict[str, Any] = {
            "title": f"Roast {index}-{start}",
            "options": ["Size"],
            "variants": [
                {
                    "options": [f"S{i}"],
                    "sku": f"P{index}-{start + i}",
                    "price": "12.00",
                    "stock": [rng.randint(0, 50) for _ in range(places)],
                }
                for i in range(count)
            ],
        }
        source = world.sandbox.add_product(partner, spec)
        copy = world.sandbox.add_product(
            retail,
            {
                **spec,
                "variants": [
                    {**v, "sku": f"PARTNER-{v['sku']}", "stock": [0, rng.randint(0, 5)]}
                    for v in spec["variants"]
                ],
            },
        )
        for theirs, ours in zip(source.variants, copy.variants, strict=True):
            retail.levels[(ours.inventory_item_id, retail.location_id)] = partner.available(
                theirs.inventory_item_id
            )
            maps.append(
                {
                    "partner_shop_domain": domain,
                    "partner_product_id": source.id,
                    "partner_variant_id": theirs.id,
                    "partner_inventory_item_id": theirs.inventory_item_id,
                    "partner_price": Decimal("12.00"),
                    "bubbly_product_id": copy.id,
                    "bubbly_variant_id": ours.id,
                    "bubbly_inventory_item_id": ours.inventory_item_id,
                    "partner_variant_missing": False,
                }
            )
    return maps


@click.command("inventory")
@click.option("--partners", default=30, show_default=True, type=int)
@click.option(
    "--variants", default=50, show_default=True, type=int, help="Mapped variants per partner."
)
@click.option(
    "--changed",
    default=0.1,
    show_default=True,
    type=float,
    help="Fraction of stock levels changed.",
)
@click.option(
    "--workers", default=8, show_default=True, type=int, help="Partners synced in parallel."
)
@click.option(
    "--plan",
    default="enterprise",
    show_default=True,
    type=click.Choice(["standard", "advanced", "plus", "enterprise"]),
)
@with_appcontext
def inventory_command(
    partners: int, variants: int, changed: float, workers: int, plan: str
) -> None:
    """Sync every partner's stock once and compare calls and time with their lower bounds."""
    rng = random.Random(7)  # noqa: S311 (benchmark data)
    with bench_world(plan) as world:
        world.install(
            RETAIL, "Bench Retail", retail=True, locations=locations(world, "Bench Retail", 2)
        )
        rows = []
        for index in range(partners):
            rows.extend(build_partner(world, index, variants, rng))
        db.session.execute(insert(ProductMap), rows)
        db.session.commit()
        changed_per_partner: dict[str, int] = {}
        for row in rng.sample(rows, int(len(rows) * changed)):
            shop = world.sandbox.shop(row["partner_shop_domain"])
            key = (row["partner_inventory_item_id"], shop.location_id)
            shop.levels[key] = shop.levels.get(key, 0) + rng.randint(1, 9)
            changed_per_partner[shop.domain] = changed_per_partner.get(shop.domain, 0) + 1
        domains = sorted({r["partner_shop_domain"] for r in rows})

        def sync(domain: str):
            with world.app.app_context():
                run = sync_partner_inventory(domain)
                return run.api_calls, run.changed, run.error_count

        with world.sandbox_in_own_process() as meter:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(sync, domains))
            wall = time.perf_counter() - started
            cpu = meter.stop()
            summaries = world.call_summaries([RETAIL, *domains])
        calls = sum(r[0] for r in results)
        minimum = sum(
            2 * ceil_div(variants, PAGE) + ceil_div(changed_per_partner.get(d, 0), PAGE)
            for d in domains
        )
        costs = {shop: summary["actual_cost"] for shop, summary in summaries.items()}
        bound = rate_limit_bound(costs, world.sandbox)
        click.echo(
            json.dumps(
                {
                    "benchmark": "inventory",
                    "partners": partners,
                    "variants_per_partner": variants,
                    "plan": plan,
                    "levels_changed": sum(r[1] for r in results),
                    "errors": sum(r[2] for r in results),
                    "calls": calls,
                    "minimum_calls": minimum,
                    "calls_ratio": round(calls / minimum, 3) if minimum else None,
                    "naive_calls": partners * variants,
                    "actual_cost": sum(costs.values()),
                    "throttled": sum(s["throttled"] for s in summaries.values()),
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
