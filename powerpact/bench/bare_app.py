"""The bare Flask endpoint ``bench intake`` measures PowerPact's webhook intake against.

One POST route that reads the body and answers 200 JSON: what Flask and gunicorn
cost on their own, with no HMAC, no database and no queue.
Served as ``gunicorn powerpact.bench.bare_app:app``.
"""

from __future__ import annotations

from flask import Flask, request

app = Flask(__name__)


@app.post("/webhooks")
def receive() -> tuple[dict[str, bool], int]:
    request.get_data(cache=False)
    return {"ok": True}, 200
