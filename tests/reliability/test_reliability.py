"""The reliability suite in its bounded form, against real processes (``make test`` runs it).

One world for the module: a throwaway PostgreSQL database, a private redis-server,
gunicorn, two Huey consumers and the sandbox, each its own process on a free port.
The scenarios run in order on it; each prints its report as JSON and fails on
anything lost, doubled or left unsent. ``make reliability`` runs them at full size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from powerpact.reliability import run_scenario
from powerpact.reliability.scenarios import BOUNDED, SCENARIOS
from powerpact.reliability.world import World, reliability_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with reliability_world() as running_world:
        yield running_world


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_loses_and_doubles_nothing(world: World, name: str) -> None:
    report = run_scenario(world, name, BOUNDED, seed=9)
    print(json.dumps(report))
    assert report["problems"] == [], json.dumps(report, indent=2)
    assert report["lost"] == 0 and report["duplicates"] == 0
    assert report["created"] == report["partner_orders_expected"] > 0


def test_a_scenario_that_breaks_a_promise_says_so() -> None:
    from powerpact.reliability.scenarios import problems_of

    report = {"lost": 2, "duplicates": 1, "settled": False, "sent": 5, "acknowledged": 4}
    assert problems_of(report) == [
        "2 partner orders lost",
        "1 partner orders doubled",
        "orders still unsent when the scenario timed out",
        "1 webhooks not acknowledged",
    ]
