"""``bench all``: run every benchmark at the size its issue names and print one Markdown table.

Each benchmark runs as its own ``flask --app wsgi bench ...`` process (they fork,
start servers and make databases of their own), its progress going to the
terminal and its JSON collected. A benchmark that fails gets a row saying so and
the command exits non-zero after the table.

Not included, as it takes about 17 minutes: the large inventory sync,
``flask --app wsgi bench inventory --partners 200 --variants 500 --workers 4``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from powerpact.config import PROJECT_ROOT

BIN = Path(sys.executable).parent
JSON_START = '{\n  "benchmark"'


@dataclass(frozen=True)
class Run:
    """One benchmark command and its arguments."""

    name: str
    args: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return " ".join(("flask --app wsgi bench", self.name, *self.args))


def default_runs(pages_orders: str) -> list[Run]:
    return [
        Run("import"),
        Run("inventory", ("--partners", "30", "--variants", "50")),
        Run("orders", ("--partners", "10", "--orders", "1000")),
        Run("pages", ("--orders", pages_orders)),
        Run("intake"),
        Run("storm", ("--sales", "1000")),
    ]


def figures_from(output: str) -> dict[str, Any]:
    """The benchmark's JSON, wherever it starts in the command's output."""
    return json.JSONDecoder().raw_decode(output[output.index(JSON_START) :])[0]


def run_one(run: Run) -> dict[str, Any] | None:
    """Run a benchmark; its stderr streams through, its stdout is parsed (None if it failed)."""
    click.echo(f"== {run.command}", err=True)
    result = subprocess.run(  # noqa: S603 (our own command)
        [str(BIN / "flask"), "--app", "wsgi", "bench", run.name, *run.args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0 or JSON_START not in result.stdout:
        click.echo(result.stdout[-2000:], err=True)
        return None
    return figures_from(result.stdout)


def number(value: Any) -> str:
    """1,234 for counts, the value as printed otherwise ('n/a' when missing)."""
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cpu_part(f: dict[str, Any]) -> str:
    return (
        f"CPU floor {number(f.get('cpu_floor_seconds'))} s over {number(f.get('cores'))} cores "
        f"(wall/floor {number(f.get('cpu_floor_ratio'))})"
    )


def import_row(f: dict[str, Any]) -> str:
    return (
        f"{number(f['products'])} products, {number(f['variants'])} variants, "
        f"{number(f['api_calls'])} API calls, actual cost {number(f['actual_cost'])}, "
        f"{f['wall_seconds']} s"
    )


def inventory_row(f: dict[str, Any]) -> str:
    return (
        f"{number(f['calls'])} calls vs minimum {number(f['minimum_calls'])} "
        f"(naive {number(f['naive_calls'])}), {number(f['levels_changed'])} levels changed, "
        f"{number(f['errors'])} errors; wall {f['wall_seconds']} s vs rate-limit bound "
        f"{f['rate_limit_bound_seconds']} s; {cpu_part(f)}"
    )


def orders_row(f: dict[str, Any]) -> str:
    return (
        f"{number(f['partner_orders_created'])} partner orders created of "
        f"{number(f['partner_orders_expected'])}, {number(f['duplicates'])} duplicates, "
        f"{number(f['api_calls'])} calls; wall {f['wall_seconds']} s vs rate-limit bound "
        f"{f['rate_limit_bound_seconds']} s; {cpu_part(f)}"
    )


PAGE_NAMES = {
    "partner_table": "partner table",
    "admin_desk": "admin desk",
    "admin_home": "admin home",
}


def pages_row(f: dict[str, Any]) -> str:
    def page(name: str, p: dict[str, Any]) -> str:
        return (
            f"{PAGE_NAMES.get(name, name)} median {p['median_ms']} ms, p95 {p['p95_ms']} ms "
            f"(its SQL p95 {p['sql_p95_ms']} ms, x{p['p95_over_sql_p95']})"
        )

    parts = []
    for run in f["runs"]:
        pages = "; ".join(page(name, p) for name, p in run["pages"].items())
        parts.append(f"{number(run['orders'])} OrderSyncs: {pages}")
    growth = f.get("p95_growth")
    if growth:
        first, last = number(f["sizes"][0]), number(f["sizes"][-1])
        ratios = ", ".join(f"{PAGE_NAMES.get(k, k)} {v}" for k, v in growth.items())
        parts.append(f"p95 at {last} / at {first}: {ratios}")
    medians = f.get("median_growth")
    if medians:
        ratios = ", ".join(f"{PAGE_NAMES.get(k, k)} {v}" for k, v in medians.items())
        parts.append(f"median: {ratios}")
    return ". ".join(parts)


def intake_row(f: dict[str, Any]) -> str:
    d = f["deliveries"]
    budget = "met" if f["within_budget"] else "missed"
    return (
        f"ceiling {number(f['intake_ceiling_rps'])} req/s vs bare Flask "
        f"{number(f['bare_ceiling_rps'])} req/s (p99 ≤ {f['p99_threshold_ms']:g} ms, gunicorn "
        f"{f['gunicorn']['workers']}x{f['gunicorn']['threads']} gthread): ratio "
        f"{number(f['ratio'])}, budget ≥ 0.5 {budget}; {number(d['acknowledged_2xx'])} "
        f"acknowledged, {number(d['stored'])} stored, {number(d['lost'])} lost"
    )


def storm_row(f: dict[str, Any]) -> str:
    return (
        f"{number(f['sales'])} partner sales: {number(f['products_update_webhooks'])} "
        f"products/update in, {number(f['productset_calls_for_sales'])} productSet calls out "
        f"({number(f['partner_reads_for_sales'])} partner reads); "
        f"{number(f['price_changes'])} price change: "
        f"{number(f['productset_calls_for_changes'])} productSet; "
        f"the sales' webhooks handled in {f['sales_webhooks_seconds']} s"
    )


ROWS: dict[str, Callable[[dict[str, Any]], str]] = {
    "import": import_row,
    "inventory": inventory_row,
    "orders": orders_row,
    "pages": pages_row,
    "intake": intake_row,
    "storm": storm_row,
}


def row(run: Run, figures: dict[str, Any] | None) -> str:
    if figures is None:
        text = "**failed** (its output is above)"
    else:
        try:
            text = ROWS[run.name](figures)
        except KeyError as missing:  # a benchmark's JSON changed shape
            text = f"figure {missing} missing: `{json.dumps(figures)}`"
    return f"| `{run.command}` | {text} |"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    return f"{os.cpu_count()} cores (nproc), {cpu_model()}, Python {platform.python_version()}"


def table(results: list[tuple[Run, dict[str, Any] | None]], when: datetime) -> str:
    lines = [
        f"Benchmarks of {when:%Y-%m-%d %H:%M} UTC on {machine()}",
        "",
        "| Command | Figures |",
        "| --- | --- |",
        *(row(run, figures) for run, figures in results),
    ]
    return "\n".join(lines)


@click.command("all")
@click.option(
    "--pages-orders",
    default="1000000",
    show_default=True,
    help="OrderSync rows for bench pages (issue 8 names a million); several sizes, "
    "comma-separated, are measured in one run (issue 20: 1000000,10000000).",
)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(list(ROWS)),
    help="Run only these benchmarks (repeatable).",
)
@click.option(
    "--json-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every benchmark's JSON here.",
)
def all_command(pages_orders: str, only: tuple[str, ...], json_out: Path | None) -> None:
    """Run every benchmark (what `make bench` does) and print one Markdown table.

    The large inventory sync is left out (about 17 minutes); run it on its own with
    `flask --app wsgi bench inventory --partners 200 --variants 500 --workers 4`.
    """
    when = datetime.now(UTC)
    runs = [r for r in default_runs(pages_orders) if not only or r.name in only]
    results = [(run, run_one(run)) for run in runs]
    if json_out is not None:
        json_out.write_text(json.dumps({r.name: f for r, f in results}, indent=2))
    click.echo(table(results, when))
    failed = [run.name for run, figures in results if figures is None]
    if failed:
        raise click.ClickException(f"failed: {', '.join(failed)}")
