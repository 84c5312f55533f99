"""The benchmark commands run end to end at a small size and report sane figures."""

import json

import pytest

from powerpact.bench import bench_group


@pytest.fixture
def run_bench(migrated_app):
    def run(*args):
        result = migrated_app.test_cli_runner().invoke(bench_group, args)
        assert result.exit_code == 0, result.output
        start = result.output.index('{\n  "benchmark"')
        return json.JSONDecoder().raw_decode(result.output[start:])[0]

    return run


def test_bench_inventory_makes_the_minimum_number_of_calls(run_bench):
    # Reading 250 levels at one location requests 751 points (an item, its level and its
    # quantities each): three at once, before the client has learnt the bucket, overflow a
    # Standard store's 2,000, so this size runs on Advanced.
    figures = run_bench(
        "inventory", "--partners", "3", "--variants", "260", "--changed", "0.5", "--workers", "3",
        "--plan", "advanced",
    )  # fmt: skip
    assert figures["errors"] == 0
    assert figures["calls"] == figures["minimum_calls"] == 3 * (2 * 2 + 1)
    assert figures["levels_changed"] == 390
    assert figures["naive_calls"] == 780


def test_bench_orders_creates_every_partner_order_once(run_bench):
    figures = run_bench("orders", "--partners", "3", "--orders", "12")
    assert figures["duplicates"] == 0
    assert (
        figures["partner_orders_created"] == figures["partner_orders_expected"] == figures["synced"]
    )


def test_bench_import_imports_a_whole_demo_catalog(run_bench):
    figures = run_bench("import", "--roaster", "0")
    assert figures["status"] == "succeeded"
    assert figures["retail_products"] == figures["products"] == 24
    assert figures["api_calls"] == 2 * figures["products"]


def test_bench_storm_sets_nothing_for_sales_and_once_per_price_change(run_bench):
    figures = run_bench("storm", "--sales", "40", "--changes", "2")
    assert figures["products_update_webhooks"] == figures["sales"] == 40
    assert figures["productset_calls_for_sales"] == 0
    assert figures["partner_reads_for_sales"] == 0
    assert figures["productset_calls_for_changes"] == figures["price_changes"] == 2
    assert figures["outcomes"] == {"unchanged": 40, "updated": 2}


def test_bench_pages_times_each_page_against_its_own_sql_at_each_size(run_bench):
    figures = run_bench("pages", "--orders", "300,1200", "--partners", "10", "--repeat", "4")
    assert figures["sizes"] == [300, 1200]
    assert [run["orders"] for run in figures["runs"]] == [300, 1200]
    for run in figures["runs"]:
        assert run["count_rows_filled"] > 0  # the recount filled the count tables
        assert set(run["pages"]) == {"partner_table", "admin_desk", "admin_home"}
        for page in run["pages"].values():
            assert 0 < page["sql_median_ms"] <= page["median_ms"]
            assert page["p95_over_sql_p95"] == round(page["p95_ms"] / page["sql_p95_ms"], 2)
            assert page["statements"] >= 2
        assert set(run["charts_30_days"]) == {
            "charts_data.partner_orders_per_day(partner)",
            "charts_data.partner_orders_per_day(all)",
            "charts_data.retail_orders_per_day",
            "charts_data.failures_by_reason",
        }
    assert set(figures["p95_growth"]) == {"partner_table", "admin_desk", "admin_home"}
    assert set(figures["median_growth"]) == set(figures["p95_growth"])


def test_bench_pages_times_the_pages_it_is_given(run_bench):
    figures = run_bench(
        "pages", "--orders", "200", "--partners", "8", "--repeat", "2", "--pages", "admin_desk"
    )
    assert set(figures["runs"][0]["pages"]) == {"admin_desk"}
    assert figures["p95_growth"] is None


def test_bench_margins_times_the_page_and_its_sql_over_seeded_orders(run_bench):
    figures = run_bench("margins", "--partners", "3", "--orders", "600", "--repeat", "3")
    assert (figures["orders"], figures["partners"]) == (600, 3)
    month, quarter = figures["margins_30_days"], figures["margins_90_days"]
    for timing in (month, quarter):
        assert timing["page"]["p95_ms"] > 0 and timing["sql"]["p95_ms"] > 0
        assert timing["p95_ratio"] == pytest.approx(
            timing["page"]["p95_ms"] / timing["sql"]["p95_ms"], abs=0.01
        )
        assert timing["partner_rows"] == 3
    # at most five products of two variants each per partner; 30 of the 90 days' orders
    assert 3 < quarter["variant_rows"] <= 30
    assert 0 < month["units"] < quarter["units"]


def test_bench_statements_times_every_partners_statement_against_its_sql(run_bench):
    figures = run_bench("statements", "--partners", "3", "--orders", "600", "--repeat", "3")
    statements = figures["statements"]
    assert statements["statements"] == 3
    # 540 of the 600 sent, 180 a partner, with their credits and (every second) a payment
    assert 185 <= statements["rows_per_statement"]["max"] <= 220
    assert statements["build"]["p95_ms"] > 0 and statements["sql"]["p95_ms"] > 0
    assert statements["ratio_p95"] > 0 and statements["budget"] == 3.0
    assert statements["met"] == (statements["ratio_p95"] <= 3.0)
    pages = figures["statement_pages"]
    assert pages["largest_statement_orders"] == 180
    assert pages["admin_statement"]["p95_ms"] > 0
