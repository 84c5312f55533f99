"""The sweep for a partner order's cancellation or redaction whose task never reached the
queue (Redis unreachable when the webhook's transaction committed): an hour after it fell
due it is enqueued again, once it has an outcome never again, and a repeat changes nothing."""

from datetime import timedelta

import pytest

from powerpact.db_types import utcnow
from powerpact.models import OrderStatus, OrderSyncEvent
from powerpact.orders.aftercare import cancel_partner_order, cancellations_left_waiting
from powerpact.orders.capture import CANCEL_REQUESTED
from powerpact.orders.privacy import (
    PARTNER_REDACTED,
    PARTNER_REDACTION_DUE,
    PARTNER_REDACTION_FAILED,
    partner_redactions_due,
    redact_partner_order,
    redactions_left_waiting,
)
from powerpact.orders.tasks import resume_lost_aftercare
from tests.factories import OrderSyncFactory, PartnerStoreFactory
from tests.shopify_double import Answer

PARTNER = "alice-roasters.myshopify.com"


@pytest.fixture
def sent(db_session):
    partner = PartnerStoreFactory(shop_domain=PARTNER)
    order = OrderSyncFactory(partner=partner, synced=True, partner_order_name="#A7")
    db_session.commit()
    return order


def event(order, kind: str, ago: timedelta) -> None:
    order.events.append(OrderSyncEvent(kind=kind, message=kind, created_at=utcnow() - ago))


def cancel_requested(db_session, order, ago: timedelta) -> None:
    order.needs_attention = True
    event(order, CANCEL_REQUESTED, ago)
    db_session.commit()


def partner_answers(shopify, *, fulfilment="UNFULFILLED", cancel_answer=None):
    """The partner's store: the order's state, and every OrderCancel and redaction it gets."""
    calls: dict[str, list] = {"OrderCancel": [], "PartnerOrderRedact": []}
    shopify.on(
        PARTNER,
        "PartnerOrderLines",
        lambda v: {
            "order": {
                "id": v["id"],
                "cancelledAt": None,
                "displayFulfillmentStatus": fulfilment,
                "lineItems": {"nodes": []},
            }
        },
    )

    def cancel(variables):
        calls["OrderCancel"].append(variables)
        if cancel_answer is not None:
            return cancel_answer(variables)
        return {"orderCancel": {"job": {"id": "j"}, "orderCancelUserErrors": []}}

    def redact(variables):
        calls["PartnerOrderRedact"].append(variables)
        return {"orderUpdate": {"order": {"id": variables["input"]["id"]}, "userErrors": []}}

    shopify.on(PARTNER, "OrderCancel", cancel)
    shopify.on(PARTNER, "PartnerOrderRedact", redact)
    return calls


def test_a_cancellation_whose_task_never_ran_is_sent_by_the_sweep_once(sent, shopify, db_session):
    calls = partner_answers(shopify)
    cancel_requested(db_session, sent, timedelta(hours=2))
    assert resume_lost_aftercare.call_local() == {
        "cancellations": 1,
        "redactions": 0,
        "refunds_and_edits": 0,
    }
    db_session.expire_all()
    assert sent.status == OrderStatus.CANCELLED and not sent.needs_attention
    assert [e.kind for e in sent.events][-2:] == [CANCEL_REQUESTED, "cancelled"]
    assert len(calls["OrderCancel"]) == 1
    assert resume_lost_aftercare.call_local() == {
        "cancellations": 0,
        "redactions": 0,
        "refunds_and_edits": 0,
    }
    assert len(calls["OrderCancel"]) == 1


def test_a_cancellation_its_task_may_still_be_retrying_is_left_to_it(sent, db_session):
    cancel_requested(db_session, sent, timedelta(minutes=20))
    assert cancellations_left_waiting() == []
    assert cancellations_left_waiting(older_than=timedelta(minutes=10)) == [sent.id]


def test_a_cancellation_a_week_old_is_left_to_the_person_it_is_flagged_for(sent, db_session):
    cancel_requested(db_session, sent, timedelta(days=8))
    assert cancellations_left_waiting() == []


def test_a_cancellation_with_an_outcome_is_not_sent_again(sent, shopify, db_session):
    calls = partner_answers(shopify, fulfilment="FULFILLED")
    cancel_requested(db_session, sent, timedelta(hours=2))
    assert cancel_partner_order(sent.id) == "synced"
    db_session.expire_all()
    assert sent.needs_attention and sent.events[-1].kind == "needs_attention"
    assert cancellations_left_waiting() == []
    assert cancel_partner_order(sent.id) == "already handled"
    assert calls["OrderCancel"] == []


def test_a_cancellation_refused_on_its_last_attempt_is_flagged_for_a_person(
    sent, shopify, db_session
):
    def down(variables):
        raise Answer(503)

    calls = partner_answers(shopify, cancel_answer=down)
    cancel_requested(db_session, sent, timedelta(hours=2))
    with pytest.raises(Exception, match="503"):
        cancel_partner_order(sent.id, last_attempt=False)
    assert cancellations_left_waiting() == [sent.id]
    assert cancel_partner_order(sent.id, last_attempt=True) == "failed"
    db_session.expire_all()
    assert sent.needs_attention and sent.status == OrderStatus.SYNCED
    assert "Could not cancel partner order #A7" in sent.events[-1].message
    assert "by hand" in sent.events[-1].message
    assert cancellations_left_waiting() == []
    assert calls["OrderCancel"]


def test_a_redaction_is_put_on_the_timeline_as_due(sent, db_session):
    assert partner_redactions_due([sent]) == [sent.id]
    assert sent.events[-1].kind == PARTNER_REDACTION_DUE
    assert "#A7" in sent.events[-1].message


def test_a_redaction_whose_task_never_ran_is_sent_by_the_sweep_once(sent, shopify, db_session):
    calls = partner_answers(shopify)
    event(sent, PARTNER_REDACTION_DUE, timedelta(hours=2))
    db_session.commit()
    assert redactions_left_waiting(older_than=timedelta(hours=3)) == []
    assert resume_lost_aftercare.call_local() == {
        "cancellations": 0,
        "redactions": 1,
        "refunds_and_edits": 0,
    }
    db_session.expire_all()
    assert sent.events[-1].kind == PARTNER_REDACTED
    assert resume_lost_aftercare.call_local() == {
        "cancellations": 0,
        "redactions": 0,
        "refunds_and_edits": 0,
    }
    assert len(calls["PartnerOrderRedact"]) == 1


def test_a_redaction_with_an_outcome_is_not_sent_again(sent, shopify, db_session):
    calls = partner_answers(shopify)
    event(sent, PARTNER_REDACTION_DUE, timedelta(hours=3))
    event(sent, PARTNER_REDACTION_FAILED, timedelta(hours=2))
    db_session.commit()
    assert redactions_left_waiting() == []
    assert redact_partner_order(sent.id) == "already handled"
    assert calls["PartnerOrderRedact"] == []


def test_a_second_request_to_erase_her_is_due_again(sent, db_session):
    event(sent, PARTNER_REDACTION_DUE, timedelta(hours=5))
    event(sent, PARTNER_REDACTED, timedelta(hours=4))
    event(sent, PARTNER_REDACTION_DUE, timedelta(hours=2))
    db_session.commit()
    assert redactions_left_waiting() == [sent.id]


def test_a_second_request_to_erase_her_overwrites_again_and_says_so(sent, shopify, db_session):
    calls = partner_answers(shopify)
    event(sent, PARTNER_REDACTION_DUE, timedelta(hours=5))
    event(sent, PARTNER_REDACTED, timedelta(hours=4))
    event(sent, PARTNER_REDACTION_DUE, timedelta(hours=2))
    db_session.commit()
    assert redact_partner_order(sent.id) == "redacted"
    assert len(calls["PartnerOrderRedact"]) == 1
    assert redactions_left_waiting() == []
    assert redact_partner_order(sent.id) == "already redacted"
