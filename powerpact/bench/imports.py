"""``bench import``: import one demo roaster's whole catalog and report what it cost."""

from __future__ import annotations

import json
import time

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from powerpact.bench.harness import RETAIL, bench_world
from powerpact.catalog.imports import create_import_job, run_import_job
from powerpact.catalog.pricing import MarkupRule, Rounding
from powerpact.extensions import db
from powerpact.models import ProductMap, RunStatus
from powerpact.sandbox.fixtures import ROASTERS, demo


@click.command("import")
@click.option(
    "--roaster",
    default=2,
    show_default=True,
    type=click.IntRange(0, len(ROASTERS) - 1),
    help="Which demo roaster (2 has 40 products).",
)
@with_appcontext
def import_command(roaster: int) -> None:
    """Import every product of one demo roaster (productSet per product) and print the cost."""
    chosen = ROASTERS[roaster]
    with bench_world() as world:
        fixture = {s["domain"]: s for s in demo(world.base)["shops"]}
        retail, _ = world.install(RETAIL, "Bench Retail", retail=True)
        partner_shop, partner = world.install(chosen["domain"], chosen["name"])
        for product in fixture[chosen["domain"]]["products"]:
            world.sandbox.add_product(partner_shop, product)
        db.session.commit()
        ids = list(partner_shop.products)
        started = time.perf_counter()
        job = run_import_job(
            create_import_job(partner, ids, MarkupRule(rounding=Rounding.TO_99)).id
        )
        wall = time.perf_counter() - started
        calls = world.calls([RETAIL, chosen["domain"]])
        click.echo(
            json.dumps(
                {
                    "benchmark": "import",
                    "partner": chosen["domain"],
                    "status": job.status.value,
                    "products": len(ids),
                    "failed": sum(1 for i in job.items if i.status == RunStatus.FAILED),
                    "variants": db.session.scalar(select(func.count()).select_from(ProductMap)),
                    "retail_products": len(retail.products),
                    "api_calls": len(calls),
                    "actual_cost": sum(c.actual_cost for c in calls),
                    "requested_cost": sum(c.requested_cost for c in calls),
                    "throttled": sum(c.throttled for c in calls),
                    "wall_seconds": round(wall, 3),
                },
                indent=2,
            )
        )
