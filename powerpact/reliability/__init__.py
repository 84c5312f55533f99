"""``flask --app wsgi reliability [--full]``: the reliability suite against real processes.

PostgreSQL (a throwaway database), a private redis-server, gunicorn serving the app,
two Huey consumers and the Shopify sandbox, each its own process on a free port.
Every scenario prints its report as one JSON line; the command fails if any
scenario lost or doubled a partner order (or broke another of its promises).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import click

from powerpact.reliability.scenarios import BOUNDED, FULL, SCENARIOS, Sizes
from powerpact.reliability.world import World, reliability_world


def run_scenario(world: World, name: str, sizes: Sizes, seed: int) -> dict[str, object]:
    """Run one scenario, leaving the world whole for the next (workers and Redis up)."""
    try:
        return SCENARIOS[name](world, sizes, random.Random(f"{seed}-{name}"))  # noqa: S311
    finally:
        if not world.redis.running:
            world.redis.start()
        world.ensure_workers()


@click.command("reliability")
@click.option("--full", is_flag=True, help="Full size (5,000 webhooks, 50 kills...).")
@click.option(
    "--scenario",
    "names",
    multiple=True,
    type=click.Choice(list(SCENARIOS)),
    help="Run only these (repeatable); all of them by default.",
)
@click.option("--seed", default=9, show_default=True, type=int)
@click.option("--logs", type=click.Path(path_type=Path), help="Keep the processes' logs here.")
def reliability_command(full: bool, names: tuple[str, ...], seed: int, logs: Path | None) -> None:
    """Start PostgreSQL, Redis, gunicorn, Huey and the sandbox; run the scenarios."""
    sizes = FULL if full else BOUNDED
    failed = []
    with reliability_world(keep_logs=logs) as world:
        for name in names or SCENARIOS:
            report = run_scenario(world, name, sizes, seed)
            click.echo(json.dumps(report))
            if report["problems"]:
                failed.append(name)
    if failed:
        raise click.ClickException(f"reliability scenarios failed: {', '.join(failed)}")
