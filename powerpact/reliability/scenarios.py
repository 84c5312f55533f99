"""The reliability scenarios: what each does, what it counts, when it fails.

Each takes a running ``World`` and ``Sizes`` and returns its report: what was sent,
what the app acknowledged, what reached the partners' stores (``created``), and
``duplicates`` and ``lost`` against what each placed order should have made, with
the retry counts. ``problems`` lists every broken promise; a scenario passes only
when it is empty.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from powerpact.db_types import utcnow
from powerpact.models import FailureReason, OrderStatus
from powerpact.reliability.processes import wait_for
from powerpact.reliability.world import (
    PARTNERS,
    RETAIL,
    WEBHOOK_TIME_SCALE,
    Placed,
    World,
    order_webhook,
)
from powerpact.sandbox.webhooks import SHOPIFY_RETRY_DELAYS

SHOPIFY_ANSWER_BUDGET = 5.0


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is: ``FULL`` for ``make reliability``, ``BOUNDED`` for CI."""

    webhooks: int
    kills: int
    kill_orders: int
    burst: int
    fault_orders: int
    uninstall_orders: int
    outage_orders: int
    settle_timeout: float
    restart_workers_after_outage: bool = False
    repeated_share: float = 0.3


FULL = Sizes(
    webhooks=5000,
    kills=50,
    kill_orders=300,
    burst=1000,
    fault_orders=150,
    uninstall_orders=100,
    outage_orders=300,
    settle_timeout=1800,
)
BOUNDED = Sizes(
    webhooks=300,
    kills=5,
    kill_orders=30,
    burst=60,
    fault_orders=20,
    uninstall_orders=16,
    outage_orders=30,
    settle_timeout=300,
    restart_workers_after_outage=True,
)


def problems_of(report: dict[str, Any]) -> list[str]:
    """What every scenario promises: nothing lost, nothing doubled, everything settled."""
    found = []
    if report.get("lost"):
        found.append(f"{report['lost']} partner orders lost")
    if report.get("duplicates"):
        found.append(f"{report['duplicates']} partner orders doubled")
    if not report.get("settled", True):
        found.append("orders still unsent when the scenario timed out")
    if report.get("acknowledged", 0) < report.get("sent", 0):
        found.append(f"{report['sent'] - report['acknowledged']} webhooks not acknowledged")
    return found


def timed(report: dict[str, Any], started: float) -> dict[str, Any]:
    report["seconds"] = round(time.monotonic() - started, 1)
    report["problems"] = [*report.get("problems", []), *problems_of(report)]
    return report


# -- 1. repeated and shuffled webhooks --------------------------------------------------
def repeat_of(delivery: dict[str, str], rng: random.Random) -> dict[str, str]:
    """Shopify repeats in two ways: a retried delivery (same webhook id) or the same event
    under a new webhook id."""
    if rng.random() < 0.5:
        return dict(delivery)
    return {**delivery, "webhook_id": f"{delivery['webhook_id']}-again-{rng.getrandbits(32)}"}


def repeated_shuffled_webhooks(world: World, sizes: Sizes, rng: random.Random) -> dict[str, Any]:
    started = time.monotonic()
    unique = round(sizes.webhooks * (1 - sizes.repeated_share))
    world.hold_sandbox_webhooks(True)
    try:
        orders = world.place_orders(unique, rng)
        originals = [order_webhook(order) for order in orders]
        repeats = [repeat_of(rng.choice(originals), rng) for _ in range(sizes.webhooks - unique)]
        deliveries = originals + repeats
        rng.shuffle(deliveries)
        answers = world.post_webhooks(deliveries)
    finally:
        world.hold_sandbox_webhooks(False)
    settled = world.wait_settled(orders, sizes.settle_timeout)
    report = {
        "scenario": "repeated_shuffled_webhooks",
        "sent": len(deliveries),
        "acknowledged": answers.count(200),
        "unique_events": unique,
        "repeated": len(repeats),
        "repeated_same_webhook_id": sum("-again-" not in d["webhook_id"] for d in repeats),
        "retail_orders": len(orders),
        "deliveries": world.delivery_statuses([d["webhook_id"] for d in deliveries]),
        "settled": settled,
        **world.audit(orders),
    }
    processed = report["deliveries"].get("processed", 0)
    if processed > unique:
        report["problems"] = [f"{processed - unique} events were processed twice"]
    return timed(report, started)


# -- 2. workers killed with SIGKILL --------------------------------------------------------
def place_steadily(
    world: World, count: int, seconds: float, rng: random.Random, placed: list[Placed]
) -> None:
    """Place ``count`` orders spread over ``seconds`` (the sandbox sends their webhooks)."""
    gap = seconds / max(count, 1)
    for _ in range(count):
        placed.append(world.place_order(world.random_lines(rng)))
        time.sleep(gap)


CREATE_WINDOW = 0.08  # seconds from reading an order's lines to Shopify's answer, about


def busy_consumer(world: World, timeout: float = 3.0) -> tuple[str | None, bool]:
    """A consumer inside a send, preferring one whose ``orderCreate`` is in flight.

    Waits up to ``timeout`` for a creating one, settling for any sender seen meanwhile.
    """
    deadline = time.monotonic() + timeout
    sender: str | None = None
    while time.monotonic() < deadline:
        busy = world.busy_senders()
        creating = [name for name, is_creating in busy.items() if is_creating]
        if creating:
            return creating[0], True
        sender = sender or next(iter(busy), None)
        time.sleep(0.001)
    return sender, False


def kill_during_a_push(world: World, rng: random.Random) -> str:
    """SIGKILL the consumer inside a send (any one if none is), then start it again.

    Returns when the kill landed: ``creating``, ``sending`` or ``idle``.
    """
    busy, creating = busy_consumer(world)
    if creating:
        time.sleep(rng.uniform(0, CREATE_WINDOW))  # a random moment of the create
    by_name = {worker.name: worker for worker in world.workers}
    victim = by_name.get(busy or "") or rng.choice(world.workers)
    victim.kill()
    victim.start()
    return "creating" if creating else "sending" if busy else "idle"


def killed_workers(world: World, sizes: Sizes, rng: random.Random) -> dict[str, Any]:
    """Orders placed steadily while consumers are killed, mostly inside an ``orderCreate``.

    The sandbox's orders search lags behind new orders (``flask sandbox --search-lag``,
    on by default, as a real store's may): a send retried right after a kill must find
    the order its killed predecessor created without relying on the search.
    """
    started = time.monotonic()
    placed: list[Placed] = []
    placer_rng = random.Random(rng.random())  # noqa: S311 (test data)
    placer = threading.Thread(
        target=place_steadily,
        args=(world, sizes.kill_orders, sizes.kills * 1.5, placer_rng, placed),
        daemon=True,
    )
    placer.start()
    moments: Counter[str] = Counter()
    try:
        for _ in range(sizes.kills):
            time.sleep(rng.uniform(0.1, 1.0))
            moments[kill_during_a_push(world, rng)] += 1
    finally:
        placer.join()
        world.ensure_workers()
    settled = world.wait_settled(placed, sizes.settle_timeout)
    report = {
        "scenario": "killed_workers",
        "sandbox_search_lag_seconds": world.control("GET", "/search-lag")["seconds"],
        "kills": sizes.kills,
        "kills_by_moment": dict(moments),
        "worker_starts": sum(w.starts for w in world.workers),
        "retail_orders": len(placed),
        "settled": settled,
        **world.audit(placed),
        "found_on_the_partner_store_after_a_kill": world.sends_recovered(placed),
    }
    return timed(report, started)


# -- 3. Redis stopped during a burst -------------------------------------------------------
def post_timed(world: World, deliveries: list[dict[str, str]]) -> list[tuple[int, float]]:
    def one(delivery: dict[str, str]) -> tuple[int, float]:
        began = time.monotonic()
        status = world.post_webhook(delivery)
        return status, time.monotonic() - began

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, deliveries))


def readyz(world: World) -> int:
    try:
        return requests.get(f"{world.app_url}/readyz", timeout=10).status_code
    except requests.RequestException:
        return 0


def redis_outage(world: World, sizes: Sizes, rng: random.Random) -> dict[str, Any]:
    """A third of the burst with Redis up, a third with it stopped, a third after its restart.

    Redis keeps nothing across the restart (no persistence), so whatever was queued
    is gone too: only the stored deliveries and the sweeper can bring it back.
    """
    started = time.monotonic()
    world.hold_sandbox_webhooks(True)
    try:
        orders = world.place_orders(sizes.burst, rng)
        deliveries = [order_webhook(order) for order in orders]
        third = len(deliveries) // 3
        answers = post_timed(world, deliveries[:third])
        world.redis.stop()
        during = post_timed(world, deliveries[third : 2 * third])
        ready_while_down = readyz(world)
        world.redis.start()
        answers += during + post_timed(world, deliveries[2 * third :])
    finally:
        world.hold_sandbox_webhooks(False)
    settled = world.wait_settled(orders, sizes.settle_timeout)
    drained = wait_for(lambda: world.unprocessed_deliveries() == 0, sizes.settle_timeout, 2)
    slowest = max(seconds for _, seconds in answers)
    report = {
        "scenario": "redis_outage",
        "sent": len(deliveries),
        "acknowledged": sum(status == 200 for status, _ in answers),
        "sent_while_redis_down": len(during),
        "acknowledged_while_redis_down": sum(status == 200 for status, _ in during),
        "slowest_answer_seconds": round(slowest, 3),
        "readyz_while_redis_down": ready_while_down,
        "retail_orders": len(orders),
        "deliveries": world.delivery_statuses([d["webhook_id"] for d in deliveries]),
        "unprocessed_deliveries_left": world.unprocessed_deliveries(),
        "settled": settled and drained,
        **world.audit(orders),
    }
    if slowest > SHOPIFY_ANSWER_BUDGET:
        report["problems"] = [f"a webhook took {slowest:.1f}s to answer (Shopify waits 5s)"]
    return timed(report, started)


# -- 4. a failing, slow and throttling Shopify -------------------------------------------
FAULTS = {"server_errors": 12, "timeouts": 4, "timeout_seconds": 2}
FAULT_WINDOW = 20.0
SHOPS = (RETAIL, *PARTNERS)


def drain_buckets(world: World, until: float) -> int:
    """Empty every shop's bucket each second until ``until``, as a greedy neighbour app would.

    Every call then meets an empty bucket and is answered ``THROTTLED``, whatever
    the client believed the bucket held.
    """
    drains = 0
    while time.monotonic() < until:
        for shop in SHOPS:
            world.control("POST", f"/shops/{shop}/throttle", {"available": 0})
        drains += 1
        time.sleep(1)
    return drains


def faults_answered(world: World) -> dict[str, int]:
    """How many of the injected faults each shop's API actually answered."""
    injected = FAULTS["server_errors"] + FAULTS["timeouts"]
    answered = {}
    for shop in SHOPS:
        left = world.control("GET", f"/shops/{shop}/faults")
        answered[shop] = injected - int(left["server_errors"]) - int(left["timeouts"])
    return answered


def faulty_shopify(world: World, sizes: Sizes, rng: random.Random) -> dict[str, Any]:
    started = time.monotonic()
    began_at = utcnow()
    for shop in SHOPS:
        world.control("DELETE", f"/shops/{shop}/calls")
        world.set_faults(shop, **FAULTS)
    drainer = ThreadPoolExecutor(max_workers=1)
    drains = drainer.submit(drain_buckets, world, started + FAULT_WINDOW)
    try:
        orders = world.place_orders(sizes.fault_orders, rng)
        settled = world.wait_settled(orders, sizes.settle_timeout)
    finally:
        drain_count = drains.result()
        drainer.shutdown()
        answered = faults_answered(world)
        for shop in SHOPS:
            world.set_faults(shop, server_errors=0, timeouts=0)
    audit = world.audit(orders)
    throttled = {s: world.control("GET", f"/shops/{s}/calls")["throttled"] for s in SHOPS}
    report = {
        "scenario": "faulty_shopify",
        "faults_per_shop": FAULTS,
        "faults_answered": answered,
        "fault_window_seconds": FAULT_WINDOW,
        "bucket_drains": drain_count,
        "throttled_answers": throttled,
        "retail_orders": len(orders),
        "settled": settled,
        **audit,
        "orders_sent_after_a_failed_attempt": sum(
            n for attempts, n in audit["attempts_per_order"].items() if int(attempts) > 1
        ),
        "webhook_attempts": world.delivery_attempts_since(began_at),
    }
    if (
        audit["order_sync_statuses"].get(OrderStatus.SYNCED.value, 0)
        != audit["partner_orders_expected"]
    ):
        report["problems"] = ["not every partner order ended synced"]
    return timed(report, started)


# -- 5. a partner uninstalls mid-batch, then reinstalls ---------------------------------
def uninstall_lines(world: World, partner: str, rng: random.Random) -> list[dict[str, Any]]:
    """A line of ``partner`` on every order, and another roaster's on every other one."""
    lines = [{"sku": rng.choice(world.skus[partner]), "quantity": 1}]
    if rng.random() < 0.5:
        other = rng.choice([p for p in PARTNERS if p != partner])
        lines.append({"sku": rng.choice(world.skus[other]), "quantity": 1})
    return lines


def synced_count(world: World, orders: list[Placed], partner: str) -> int:
    return sum(
        s.status == OrderStatus.SYNCED and s.partner_shop_domain == partner
        for s in world.syncs_of(orders)
    )


def uninstalled_partner(world: World, sizes: Sizes, rng: random.Random) -> dict[str, Any]:
    started = time.monotonic()
    partner = PARTNERS[1]
    half = sizes.uninstall_orders // 2
    orders = [world.place_order(uninstall_lines(world, partner, rng)) for _ in range(half)]
    wait_for(lambda: synced_count(world, orders, partner) >= max(1, half // 2), 60, 0.05)
    world.control("POST", f"/shops/{partner}/uninstall")
    orders += [
        world.place_order(uninstall_lines(world, partner, rng))
        for _ in range(sizes.uninstall_orders - half)
    ]
    first_settled = world.wait_settled(orders, sizes.settle_timeout)
    mine = [s for s in world.syncs_of(orders) if s.partner_shop_domain == partner]
    failed = [s for s in mine if s.status == OrderStatus.FAILED]
    wrong_reason = [
        s for s in failed if s.last_order_failure_reason != FailureReason.PARTNER_UNINSTALLED
    ]
    world.install(partner)
    world.admin_retry([s.id for s in failed])
    settled = world.wait_settled(orders, sizes.settle_timeout)
    audit = world.audit(orders)
    report = {
        "scenario": "uninstalled_partner",
        "partner": partner,
        "retail_orders": len(orders),
        "partner_orders_of_uninstalled_partner": len(mine),
        "sent_before_uninstall": sum(s.status == OrderStatus.SYNCED for s in mine),
        "failed_partner_uninstalled": len(failed) - len(wrong_reason),
        "failed_other_reason": dict(
            Counter(str(s.last_order_failure_reason) for s in wrong_reason)
        ),
        "retried": len(failed),
        "settled": first_settled and settled,
        **audit,
    }
    problems = []
    if wrong_reason:
        problems.append(f"{len(wrong_reason)} orders failed with another reason than uninstall")
    if not failed:
        problems.append("no order was caught by the uninstall (it did not land mid-batch)")
    if (
        audit["order_sync_statuses"].get(OrderStatus.SYNCED.value, 0)
        != audit["partner_orders_expected"]
    ):
        problems.append("not every partner order was sent after the retry")
    report["problems"] = problems
    return timed(report, started)


# -- 6. the web process down for five hours (compressed) ---------------------------------
OUTAGE_HOURS = 5


def web_outage(world: World, sizes: Sizes, rng: random.Random) -> dict[str, Any]:
    """PowerPact's web process down for five hours while orders are placed.

    Shopify retries every delivery 8 times over 4 hours (compressed by the world's
    ``WEBHOOK_TIME_SCALE``), then drops it and removes the subscriptions whose deliveries
    kept failing. Nothing but PowerPact's own reconciliation can find these orders once
    the web is back: at full size the workers run on and their periodic reconciliation
    (every minute here, every ten in production) finds them; the bounded run restarts the
    workers as a deploy would, and their start-up catch-up finds them. The hourly
    subscription check is then run to restore the webhooks for what comes next. Recovery
    is timed from the web's return until every partner order exists.
    """
    started = time.monotonic()
    outage = OUTAGE_HOURS * 3600 * WEBHOOK_TIME_SCALE
    retrying = sum(SHOPIFY_RETRY_DELAYS) * WEBHOOK_TIME_SCALE
    before = world.webhook_summary()
    world.web.stop()
    down_at = time.monotonic()
    try:
        orders = world.place_orders(sizes.outage_orders, rng)
        placed_at = time.monotonic()
        time.sleep(max(0.0, down_at + outage - time.monotonic()))
        # the outage outlasts Shopify's retries of every delivery it made (a slow placing
        # of the orders would otherwise leave the last ones still retrying)
        wait_for(
            lambda: world.webhook_summary()["trying"] <= before["trying"],
            placed_at + retrying + 60 - time.monotonic(),
            0.5,
        )
        during = world.webhook_summary()
        subscriptions_left = world.subscriptions(RETAIL)
    finally:
        world.web.start()
    back_at = time.monotonic()
    if sizes.restart_workers_after_outage:
        for worker in world.workers:  # a deploy after the outage: the start-up catch-up
            worker.stop()
            worker.start()
    settled = world.wait_settled(orders, sizes.settle_timeout)
    recovery = time.monotonic() - back_at
    repaired = world.check_subscriptions()
    report = {
        "scenario": "web_outage",
        "outage_seconds": round(back_at - down_at, 1),
        "outage_shopify_hours": OUTAGE_HOURS,
        "retail_orders": len(orders),
        "webhooks_dropped_by_shopify": during["given_up"] - before["given_up"],
        "webhooks_still_trying_when_back": during["trying"] - before["trying"],
        "retail_subscriptions_left": sorted(subscriptions_left),
        "subscriptions_recreated": repaired.get(RETAIL, {}).get("created", []),
        "retail_subscriptions_after": sorted(world.subscriptions(RETAIL)),
        "recovery_seconds": round(recovery, 1),
        "recovered_by": (
            "the workers' start-up reconciliation"
            if sizes.restart_workers_after_outage
            else "the periodic reconciliation"
        ),
        "settled": settled,
        **world.audit(orders),
    }
    problems = []
    if report["webhooks_dropped_by_shopify"] == 0 or report["webhooks_still_trying_when_back"]:
        problems.append("the outage did not outlast Shopify's retries of every delivery")
    if "ORDERS_CREATE" not in report["retail_subscriptions_after"]:
        problems.append("the retail store's subscriptions were not restored")
    report["problems"] = problems
    return timed(report, started)


Scenario = Callable[[World, Sizes, random.Random], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {
    "repeated_shuffled_webhooks": repeated_shuffled_webhooks,
    "killed_workers": killed_workers,
    "redis_outage": redis_outage,
    "faulty_shopify": faulty_shopify,
    "uninstalled_partner": uninstalled_partner,
    "web_outage": web_outage,
}
