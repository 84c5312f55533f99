"""``bench intake`` at a tiny size: real gunicorn, real wrk, nothing acknowledged lost.

``make test`` installs Debian's wrk first (the ``wrk`` target), so CI runs this;
a bare ``pytest`` on a machine without wrk skips it and says how to get it.
"""

import json
import shutil

import pytest
from click.testing import CliRunner
from huey import RedisHuey

from powerpact.bench import intake
from tests.conftest import REDIS_TEST_URL

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed: `make wrk` (Debian's package)"
)


def test_bench_intake_ramps_both_servers_and_loses_no_acknowledged_webhook(monkeypatch):
    monkeypatch.setattr(intake, "REDIS_URL", REDIS_TEST_URL)
    args = ["--max-connections", "2", "--seconds", "1", "--workers", "1", "--threads", "2"]
    result = CliRunner().invoke(intake.intake_command, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout[result.stdout.index('{\n  "benchmark"') :])
    assert [s["connections"] for s in figures["intake_steps"]][:1] == [1]
    assert [s["connections"] for s in figures["bare_steps"]][:1] == [1]
    deliveries = figures["deliveries"]
    assert deliveries["ok"] and deliveries["lost"] == 0
    assert 0 < deliveries["acknowledged_2xx"] <= deliveries["stored"] <= deliveries["sent"]
    assert deliveries["stored_by_status"] == {"received": deliveries["stored"]}
    assert deliveries["enqueued"] == deliveries["stored"]
    assert figures["rows_per_commit"] >= 1
    assert RedisHuey(figures["queue_deleted"], url=REDIS_TEST_URL).pending_count() == 0


def test_rows_per_commit_is_the_rows_inserted_over_the_transactions_committed():
    assert intake.rows_per_commit((100, 10), (140, 110)) == 2.5
    assert intake.rows_per_commit((100, 10), (100, 10)) is None


def test_the_ceiling_is_the_fastest_step_within_the_threshold_without_errors():
    def step(rps: float, p99: float, errors: int = 0) -> intake.Step:
        return intake.Step(1, rps, 1.0, p99, 10, 10, 10 - errors, 0, errors)

    steps = [step(100, 10), step(300, 900), step(250, 900, errors=1), step(400, 1200)]
    assert intake.ceiling(steps, 1000) == 300
    assert intake.ceiling([step(400, 1200)], 1000) is None


def test_the_ramps_take_turns_step_by_step_and_a_server_past_the_threshold_drops_out(
    monkeypatch,
):
    calls = []

    def fake_wrk(url, script, connections, prefix, load):
        calls.append((url, connections))
        p99_us = 2_000_000 if (url, connections) == ("bare", 2) else 1000
        return {"duration_us": 1_000_000, "requests": 10, "sent": 10, "answered": 10,
                "acknowledged": 10, "p50_us": 500, "p99_us": p99_us, "connect_errors": 0,
                "read_errors": 0, "write_errors": 0, "timeouts": 0}  # fmt: skip

    monkeypatch.setattr(intake, "run_wrk", fake_wrk)
    steps = intake.ramps({"intake": "intake", "bare": "bare"}, None, intake.Load(4))
    assert calls == [("intake", 1), ("bare", 1), ("bare", 2), ("intake", 2), ("intake", 4)]
    assert [s.connections for s in steps["intake"]] == [1, 2, 4]
    assert [s.connections for s in steps["bare"]] == [1, 2]
