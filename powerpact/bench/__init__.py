"""``flask --app wsgi bench ...``: benchmarks that print figures (JSON), not timed tests."""

from __future__ import annotations

import click

from powerpact.bench.imports import import_command
from powerpact.bench.intake import intake_command
from powerpact.bench.inventory import inventory_command
from powerpact.bench.margins import margins_command
from powerpact.bench.notifications import notifications_command
from powerpact.bench.orders import orders_command
from powerpact.bench.oversized import oversized_command
from powerpact.bench.pages import pages_command
from powerpact.bench.statements import statements_command
from powerpact.bench.storm import storm_command
from powerpact.bench.summary import all_command


@click.group("bench")
def bench_group() -> None:
    """Benchmarks against the sandbox; each prints its figures as JSON."""


def register(group: click.Group) -> None:
    group.add_command(import_command)
    group.add_command(intake_command)
    group.add_command(inventory_command)
    group.add_command(margins_command)
    group.add_command(notifications_command)
    group.add_command(orders_command)
    group.add_command(oversized_command)
    group.add_command(pages_command)
    group.add_command(statements_command)
    group.add_command(storm_command)
    group.add_command(all_command)


register(bench_group)
