"""Issue 18, finding 1: every route reads at most a fixed limit of a body, declared or not.

A chunked body has no ``Content-Length``; here the test client gets one as a stream that
counts what is read from it (``Transfer-Encoding: chunked``, ``wsgi.input_terminated``,
as gunicorn and Werkzeug's server pass it), and under the production gunicorn a real
chunked body goes over a socket (``bench oversized``).
"""

from __future__ import annotations

import io
import json

import pytest

from powerpact.bench.oversized import measure_oversized
from powerpact.limits import MAX_REQUEST_BODY_BYTES
from powerpact.shopify.signatures import webhook_hmac
from powerpact.shopify.webhooks import MAX_BODY_BYTES, delivery_by_webhook_id

MIB = 1024 * 1024


class CountingStream(io.RawIOBase):
    """``total`` bytes of ``pattern`` made as they are read, never held; counts the reads."""

    def __init__(self, total: int, pattern: bytes = b"x") -> None:
        self.left = total
        self.pattern = pattern
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        size = min(len(buffer), self.left)
        start = self.read_bytes % len(self.pattern)
        repeated = self.pattern * (size // len(self.pattern) + 2)
        buffer[:size] = repeated[start : start + size]
        self.left -= size
        self.read_bytes += size
        return size


def post_chunked(client, path: str, stream: io.RawIOBase, headers: dict[str, str]):
    return client.post(
        path,
        headers={"Transfer-Encoding": "chunked", **headers},
        environ_overrides={"wsgi.input": stream, "wsgi.input_terminated": True},
    )


def webhook_headers(body: bytes | None, secret: str, webhook_id: str = "chunked-1"):
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "bubbly-retail.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": webhook_hmac(secret, body) if body else "d3Jvbmc=",
    }


def padded_payload(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    body = json.dumps({"id": 1, "note": ""}).encode()
    return body.replace(b'""', b'"' + b"n" * (size - len(body)) + b'"')


def test_a_chunked_webhook_is_refused_once_one_byte_past_the_limit_was_read(client):
    stream = CountingStream(50 * MIB)
    response = post_chunked(client, "/webhooks", stream, webhook_headers(None, "any"))
    assert response.status_code == 413
    assert stream.read_bytes == MAX_BODY_BYTES + 1


def test_a_declared_length_over_the_limit_is_refused_without_reading(client):
    stream = CountingStream(50 * MIB)
    response = client.post(
        "/webhooks",
        headers=webhook_headers(None, "any"),
        environ_overrides={"wsgi.input": stream, "CONTENT_LENGTH": str(50 * MIB)},
    )
    assert response.status_code == 413
    assert stream.read_bytes == 0


@pytest.mark.parametrize(("size", "status"), [(MAX_BODY_BYTES, 200), (MAX_BODY_BYTES + 1, 413)])
def test_a_signed_chunked_webhook_is_stored_up_to_the_limit_and_refused_past_it(
    app, client, size, status
):
    body = padded_payload(size)
    secret = app.config["POWERPACT"].shopify_api_secret
    headers = webhook_headers(body, secret, webhook_id=f"size-{size}")
    response = post_chunked(client, "/webhooks", CountingStream(size, body), headers)
    assert response.status_code == status
    stored = delivery_by_webhook_id(f"size-{size}")
    assert (stored is not None and len(stored.payload) == size) == (status == 200)


def retry_form(count: int) -> bytes:
    return b"&".join(b"order_id=%d" % i for i in range(1, count + 1))


def test_a_chunked_form_over_the_global_limit_is_refused_before_the_view(
    client, personas, session_token
):
    headers = {
        "Authorization": f"Bearer {session_token(personas.retail)}",
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    stream = CountingStream(20 * MIB, retry_form(1000) + b"&")
    response = post_chunked(client, "/admin/orders/retry", stream, headers)
    assert response.status_code == 413
    assert stream.read_bytes == MAX_REQUEST_BODY_BYTES + 1


def test_a_chunked_form_within_the_limit_is_read_whole(client, personas, session_token):
    headers = {
        "Authorization": f"Bearer {session_token(personas.retail)}",
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    form = retry_form(25) + b"&status=failed"
    response = post_chunked(client, "/admin/orders/retry", CountingStream(len(form), form), headers)
    assert response.status_code == 200


def test_a_form_route_refuses_a_declared_length_over_the_global_limit(
    client, personas, session_token
):
    response = client.post(
        "/admin/orders/retry",
        data=retry_form(10_000),
        headers={"Authorization": f"Bearer {session_token(personas.retail)}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413


@pytest.mark.parametrize("worker_class", ["gthread", "sync"])
def test_the_production_gunicorn_refuses_a_huge_chunked_webhook_without_holding_it(
    worker_class,
):
    """Render's setup, a real socket: 413 as soon as the limit is passed, the worker's
    peak memory within a few MiB of idle (20 MB sent on the code before: 401, +20 MiB)."""
    outcome = measure_oversized(20, worker_class=worker_class)
    assert outcome.status == 413
    assert outcome.sent_bytes < 20 * MIB
    assert outcome.peak_rss_mib - outcome.idle_rss_mib < 8
