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


@pytest.fixture(autouse=True)
def order_counts_match_a_recount(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every order test that used the database: the count tables the triggers keep
    (``orders/rollup.py``) equal a recount of the OrderSyncs, whatever paths it drove
    (capture, send, retry, batches, aftercare, privacy...)."""
    if "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("app")  # set up first, so torn down after this check
    yield
    from powerpact.extensions import db  # the app's session, inside the test's transaction
    from tests.order_counts import assert_counts_match

    if not db.session.is_active:
        db.session.rollback()
    assert_counts_match()
