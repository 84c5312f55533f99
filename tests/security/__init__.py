"""The security suite (issue #9, point 3): where each point is tested.

- Forged, missing and re-signed HMACs: webhooks in ``test_forgeries`` (nine forgeries on
  lifecycle and compliance topics) and ``tests/shopify/test_webhook_intake.py``; the OAuth
  callback in ``test_forgeries`` and ``tests/shopify/test_install_flow.py``.
- Replayed and foreign ``state``: ``test_forgeries`` (spent by a refused callback, expired,
  never issued, superseded) and ``tests/shopify/test_install_flow.py`` (replayed after
  success, another browser, issued for another shop).
- Hostile shop names (foreign, suffixed, paths, ports, user info, upper case, unicode
  look-alikes) on the install link, the callback, a session token's ``dest`` and the
  ``X-Shopify-Shop-Domain`` header, and a genuine body replayed under another shop's
  header: ``test_hostile_shops``.
- Session tokens (``alg: none``, another secret or algorithm, expired, not yet valid, wrong
  or missing ``aud``, ``dest`` of another shop, an uninstalled shop): ``test_forgeries``,
  ``tests/test_embedded.py``.
- Every /admin and /partner route, enumerated from ``app.url_map``, called as another
  partner, with no token and as an uninstalled partner, with another partner's ids:
  nothing leaks, no table changes: ``test_route_access``.
- Tokens never in plaintext in the database or the logs: ``test_secrets_at_rest`` (pg_dump
  after an install, access and refresh token) and ``test_tokens_in_dumps_and_logs``
  (refresh inside a webhook, refused refresh, token exchange; every table including the
  webhook store, raw log records).
- Compliance redaction: ``test_compliance_redaction`` (every table dumped and searched for
  the customer's email, name, address and phone after customers/redact and shop/redact).
- Property-based fuzzing: the webhook endpoint in ``test_fuzz_webhooks``; order capture
  (``parse_order``, ``record_order``, the split, the worker task) in ``test_fuzz_capture``.
- Every rule of ``app.url_map``, every method, as nobody, a partner and the retail admin,
  with hostile values in every path parameter, query and form field the code reads: no
  5xx, no traceback, nothing of another partner's: ``test_route_fuzz``.
- A genuine body replayed under another topic (the issue #18 attack: an orders/create
  body as another partner's app/uninstalled), each topic's shape and shop, uninstall and
  shop redact confirmed by Shopify, ``X-Shopify-Triggered-At`` deciding nothing:
  ``test_topic_replay``; every genuine sandbox body against every topic's shape:
  ``tests/sandbox/test_payload_shapes.py``.
- Session tokens living over 5 minutes or without ``iat``, and one minted before an
  uninstall: ``test_session_token_lifetime``. OAuth states expiring, purged and
  rate-limited per address: ``test_install_states``.
"""
