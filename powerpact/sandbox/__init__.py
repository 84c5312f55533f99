"""A local Shopify: the Admin GraphQL API on the real 2026-07 schema, OAuth, webhooks,
throttling, faults and a control API (documented in ``control``).

Used by the demo, the end-to-end tests and the benchmarks::

    app = create_sandbox_app(SandboxConfig(api_key=..., api_secret=..., transport=...))
    sandbox = app.extensions["sandbox"]
    fixtures.load_named(sandbox, "demo")
"""

from powerpact.sandbox.app import create_sandbox_app
from powerpact.sandbox.config import SandboxConfig
from powerpact.sandbox.core import Sandbox
from powerpact.sandbox.errors import SandboxError
from powerpact.sandbox.orders import place_order

__all__ = ["Sandbox", "SandboxConfig", "SandboxError", "create_sandbox_app", "place_order"]
