"""Fraud analysis as Shopify runs it: assessments that arrive after the order, one by one.

What Shopify documents, and the sandbox plays:

- An order's risk is a summary of its assessments (``Order.risk``, an
  ``OrderRiskSummary``): "The recommended action for the order based on its risk
  assessments" and the assessments themselves, each with a ``riskLevel``
  (``RiskAssessmentResult``: ``LOW``, ``MEDIUM``, ``HIGH``, ``NONE``, and ``PENDING``,
  "the risk assessment is still pending"), its ``facts`` and its ``provider`` ("The app
  that provided the assessment, ``null`` if the assessment was provided by Shopify")
  (https://shopify.dev/docs/api/admin-graphql/2026-07/objects/OrderRiskSummary).
- ``orders/risk_assessment_changed`` "Triggers when a new risk assessment is available
  on the order. This can be the first or a subsequent risk assessment. New risk
  assessments can be provided until the order is marked as fulfilled. Includes the risk
  level, risk facts, the provider and the order ID. [...] Does not include the risk
  recommendation for the order." (the schema's ``WebhookSubscriptionTopic``).

So an order is placed with no assessment; Shopify's analysis reports some time later,
possibly ``PENDING`` first, then its final level; an app (or the console's *Approve risk*)
may add more. The recommendation is read from the newest final assessment (the
documents do not say how several are combined; PowerPact reads only the recommendation
and whether a final assessment exists, so either reading is safe for it).

Which key names the order in the webhook's payload is not spelled out: the sandbox sends
``order_id`` and ``admin_graphql_api_order_id`` (as Shopify's other REST-shaped payloads
name a related order), or only one of them (``SandboxConfig.risk_webhook_order_keys``);
PowerPact reads either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from powerpact.sandbox.store import (
    LEVEL_RECOMMENDATIONS,
    Order,
    RiskAssessment,
    Shop,
    now_iso,
    numeric,
)

if TYPE_CHECKING:
    from powerpact.sandbox.core import Sandbox

RECOMMENDATION_LEVELS = {rec: level for level, rec in LEVEL_RECOMMENDATIONS.items()}
LEVELS = ("LOW", "MEDIUM", "HIGH", "NONE", "PENDING")
SHOPIFY_FACTS = {
    "LOW": [{"description": "Payment checks passed", "sentiment": "POSITIVE"}],
    "MEDIUM": [
        {
            "description": "Billing address does not match the card's address",
            "sentiment": "NEGATIVE",
        }
    ],
    "HIGH": [
        {"description": "Card was declined several times before", "sentiment": "NEGATIVE"},
        {"description": "Order placed through an anonymous proxy", "sentiment": "NEGATIVE"},
    ],
    "NONE": [],
    "PENDING": [{"description": "Fraud analysis in progress", "sentiment": "NEUTRAL"}],
}


def summary_node(order: Order) -> dict[str, Any]:
    return {
        "__typename": "OrderRiskSummary",
        "recommendation": order.risk_recommendation,
        "assessments": [assessment_node(a) for a in order.risk_assessments],
    }


def assessment_node(assessment: RiskAssessment) -> dict[str, Any]:
    provider = None
    if assessment.provider_title is not None:
        provider = {
            "__typename": "App",
            "id": f"gid://shopify/App/{assessment.provider_id or 0}",
            "title": assessment.provider_title,
        }
    return {
        "__typename": "OrderRiskAssessment",
        "riskLevel": assessment.risk_level,
        "provider": provider,
        "facts": [{"__typename": "RiskFact", **fact} for fact in assessment.facts],
    }


def webhook_payload(
    order: Order, assessment: RiskAssessment, order_keys: tuple[str, ...]
) -> dict[str, Any]:
    """``orders/risk_assessment_changed``: level, facts, provider and the order; no
    recommendation."""
    payload: dict[str, Any] = {}
    if "order_id" in order_keys:
        payload["order_id"] = numeric(order.id)
    if "admin_graphql_api_order_id" in order_keys:
        payload["admin_graphql_api_order_id"] = order.id
    payload.update(
        {
            "risk_level": assessment.risk_level.lower(),
            "facts": [dict(fact) for fact in assessment.facts],
            "provider_id": assessment.provider_id,
            "provider_title": assessment.provider_title,
            "created_at": assessment.created_at,
        }
    )
    return payload


def add_assessment(
    sandbox: Sandbox,
    shop: Shop,
    order: Order,
    risk_level: str,
    *,
    provider_title: str | None = None,
    facts: list[dict[str, str]] | None = None,
) -> RiskAssessment | None:
    """A new assessment and its webhook; none once the order is fulfilled."""
    if order.fulfillment_status == "FULFILLED":
        return None
    assessment = RiskAssessment(
        risk_level=risk_level,
        provider_title=provider_title,
        provider_id=None if provider_title is None else 4242,
        facts=list(SHOPIFY_FACTS[risk_level] if facts is None else facts),
        created_at=now_iso(),
    )
    order.risk_assessments.append(assessment)
    order.updated_at = assessment.created_at
    keys = sandbox.config.risk_webhook_order_keys
    sandbox.emit(
        shop,
        "orders/risk_assessment_changed",
        lambda: webhook_payload(order, assessment, keys),
    )
    return assessment


def start_analysis(sandbox: Sandbox, shop: Shop, order: Order, outcome: str) -> None:
    """Shopify's own analysis of a checkout: an assessment at each of
    ``SandboxConfig.risk_assessment_delays`` seconds (all but the last ``PENDING``, the
    last at the level of ``outcome``, a recommendation); none when that is empty."""
    delays = sandbox.config.risk_assessment_delays
    final_level = RECOMMENDATION_LEVELS[outcome]
    for index, delay in enumerate(delays):
        level = final_level if index == len(delays) - 1 else "PENDING"

        def assess(level: str = level) -> None:
            with sandbox.lock, sandbox.action():
                add_assessment(sandbox, shop, order, level)

        sandbox.webhooks.later(delay, assess)
