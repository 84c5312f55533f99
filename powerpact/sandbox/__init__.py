"""A local Shopify: the Admin GraphQL API on the real 2026-07 schema, OAuth, webhooks,
throttling, faults and a control API. Used by the demo, the end-to-end tests and the
benchmarks; see ``app.py`` for the control API."""

from powerpact.sandbox.app import create_sandbox_app, place_order
from powerpact.sandbox.core import Sandbox, SandboxConfig, SandboxError

__all__ = ["Sandbox", "SandboxConfig", "SandboxError", "create_sandbox_app", "place_order"]
