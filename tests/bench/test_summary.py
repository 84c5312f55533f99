"""``bench all`` turns each benchmark's JSON into one Markdown row, and says what failed."""

from datetime import UTC, datetime

from click.testing import CliRunner

from powerpact.bench import summary

INVENTORY = {
    "benchmark": "inventory",
    "calls": 90,
    "minimum_calls": 90,
    "naive_calls": 1500,
    "levels_changed": 150,
    "errors": 0,
    "wall_seconds": 1.9,
    "rate_limit_bound_seconds": 0.0,
    "cpu_floor_seconds": 1.5,
    "cores": 2,
    "cpu_floor_ratio": 1.27,
}
INTAKE = {
    "benchmark": "intake",
    "intake_ceiling_rps": 480.0,
    "bare_ceiling_rps": 3000.0,
    "ratio": 0.16,
    "within_budget": False,
    "p99_threshold_ms": 1000.0,
    "gunicorn": {"workers": 3, "threads": 4},
    "deliveries": {"acknowledged_2xx": 12000, "stored": 12010, "lost": 0},
}


def test_the_table_names_date_machine_and_the_key_figures_of_each_run():
    runs = summary.default_runs("1000000")
    by_name = {r.name: r for r in runs}
    text = summary.table(
        [
            (by_name["inventory"], INVENTORY),
            (by_name["intake"], INTAKE),
            (by_name["orders"], None),
            (by_name["pages"], {"benchmark": "pages"}),
        ],
        datetime(2026, 11, 22, 23, 50, tzinfo=UTC),
    )
    assert text.startswith("Benchmarks of 2026-11-22 23:50 UTC on ")
    assert "cores (nproc)" in text.splitlines()[0]
    assert (
        "| `flask --app wsgi bench inventory --partners 30 --variants 50` | 90 calls vs minimum 90"
        in text
    )
    assert "wall 1.9 s vs rate-limit bound 0.0 s; CPU floor 1.5 s over 2 cores" in text
    assert "ceiling 480.0 req/s vs bare Flask 3000.0 req/s" in text
    assert "ratio 0.16, budget ≥ 0.5 missed; 12,000 acknowledged, 12,010 stored, 0 lost" in text
    assert "| `flask --app wsgi bench orders --partners 10 --orders 1000` | **failed**" in text
    assert "figure 'runs' missing" in text
    assert "bench pages --orders 1000000" in text


def test_bench_all_runs_the_chosen_benchmarks_and_fails_after_the_table(monkeypatch):
    answers = {"inventory": INVENTORY, "intake": None}
    monkeypatch.setattr(summary, "run_one", lambda run: answers[run.name])
    result = CliRunner().invoke(summary.all_command, ["--only", "inventory", "--only", "intake"])
    assert result.exit_code == 1
    assert "90 calls vs minimum 90" in result.stdout
    assert "bench intake` | **failed**" in result.stdout
    assert "failed: intake" in result.output


def test_figures_are_found_after_the_progress_lines():
    output = 'migrating\n{\n  "benchmark": "import",\n  "products": 40\n}\n'
    assert summary.figures_from(output) == {"benchmark": "import", "products": 40}


def test_the_storm_row_says_sales_in_and_product_sets_out():
    storm = {
        "benchmark": "storm",
        "sales": 1000,
        "products_update_webhooks": 1000,
        "productset_calls_for_sales": 0,
        "partner_reads_for_sales": 0,
        "price_changes": 1,
        "productset_calls_for_changes": 1,
        "sales_webhooks_seconds": 6.07,
    }
    run = {r.name: r for r in summary.default_runs("1")}["storm"]
    assert summary.row(run, storm) == (
        "| `flask --app wsgi bench storm --sales 1000` | 1,000 partner sales: 1,000 "
        "products/update in, 0 productSet calls out (0 partner reads); 1 price change: "
        "1 productSet; the sales' webhooks handled in 6.07 s |"
    )


def test_the_pages_row_gives_each_size_each_pages_time_and_sql_and_the_growth():
    def page(p95, sql):
        return {
            "median_ms": p95 - 1,
            "p95_ms": p95,
            "sql_median_ms": sql - 1,
            "sql_p95_ms": sql,
            "statements": 5,
            "p95_over_sql_p95": round(p95 / sql, 2),
        }

    pages = {
        "benchmark": "pages",
        "orders": 10_000_000,
        "sizes": [1_000_000, 10_000_000],
        "runs": [
            {"orders": 1_000_000, "pages": {"partner_table": page(6.0, 3.0)}},
            {"orders": 10_000_000, "pages": {"partner_table": page(6.6, 3.0)}},
        ],
        "p95_growth": {"partner_table": 1.1},
    }
    run = {r.name: r for r in summary.default_runs("1000000,10000000")}["pages"]
    assert summary.row(run, pages) == (
        "| `flask --app wsgi bench pages --orders 1000000,10000000` | 1,000,000 OrderSyncs: "
        "partner table median 5.0 ms, p95 6.0 ms (its SQL p95 3.0 ms, x2.0). 10,000,000 "
        "OrderSyncs: partner table median 5.6 ms, p95 6.6 ms (its SQL p95 3.0 ms, x2.2). "
        "p95 at 10,000,000 / at 1,000,000: partner table 1.1 |"
    )
