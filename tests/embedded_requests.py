"""Requests as an embedded page sends them: htmx, with the shop's session token."""

import json


def post_as(client, session_token, shop, url, data):
    return client.post(
        url,
        data=data,
        headers={"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"},
    )


def toast_of(response) -> str | None:
    """The message of the App Bridge toast a response asks for (``HX-Trigger``), if any."""
    triggers = json.loads(response.headers.get("HX-Trigger") or "{}")
    toast = triggers.get("powerpact:toast")
    return toast["message"] if toast else None
