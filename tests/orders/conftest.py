"""The order tests never sleep: ``push.sleep`` records the waits it was asked for."""

from collections.abc import Iterator

import pytest

from powerpact.orders import push


@pytest.fixture(autouse=True)
def waits() -> Iterator[list[float]]:
    """The seconds each wait of a send would have slept (set directly, so that a test's
    ``monkeypatch.undo()`` leaves it in place)."""
    recorded: list[float] = []
    real, push.sleep = push.sleep, recorded.append
    yield recorded
    push.sleep = real
