"""The topic registry (``powerpact.shopify.topics.TOPICS``) is the one list of webhook topics:
each has an audience, a payload shape and a handler the worker reaches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from powerpact.shopify.payload_shapes import Shape
from powerpact.shopify.topics import TOPICS, Audience, shop_topics, topics_for

ROOT = Path(__file__).resolve().parents[2]

# What ``huey_consumer powerpact.tasks.huey`` does before it runs a task: import
# powerpact.tasks, nothing else. Then every topic's handler must be there already.
WORKER_PROBE = """
import json, sys
import powerpact.tasks
from powerpact.shopify import install
from powerpact.shopify.topics import TOPICS, handler_for

report = {}
for name, topic in TOPICS.items():
    module, _, function = topic.handler.partition(":")
    loaded = sys.modules.get(module)
    report[name] = {
        "module imported by powerpact.tasks": loaded is not None,
        "handler": loaded is not None and getattr(loaded, function, None) is handler_for(name),
    }
report["after install"] = sorted(f"{h.__module__}:{h.__qualname__}" for h in install.AFTER_INSTALL)
print(json.dumps(report))
"""


def test_a_worker_that_imported_powerpact_tasks_reaches_every_handler():
    out = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.splitlines()[-1])
    assert report.pop("after install") == ["powerpact.catalog.tasks:prepare_catalog"]
    assert set(report) == set(TOPICS)
    reached = {"module imported by powerpact.tasks": True, "handler": True}
    assert {name: found for name, found in report.items() if found != reached} == {}


def test_every_topic_has_an_audience_a_shape_and_a_handler_path():
    for name, topic in TOPICS.items():
        assert topic.name == name
        assert isinstance(topic.audience, Audience), name
        assert isinstance(topic.shape, Shape), name
        module, colon, function = topic.handler.partition(":")
        assert module.startswith("powerpact.") and colon and function.isidentifier(), name


def test_each_audience_has_topics_and_each_topic_one_audience():
    by_audience = {audience: topics_for(audience) for audience in Audience}
    assert all(by_audience.values())
    listed = [name for names in by_audience.values() for name in names]
    assert sorted(listed) == sorted(TOPICS)
    assert (
        shop_topics(is_retail=True)
        == by_audience[Audience.RETAIL] + by_audience[Audience.EVERY_SHOP]
    )
    assert shop_topics(is_retail=False) == (
        by_audience[Audience.PARTNER] + by_audience[Audience.EVERY_SHOP]
    )
