"""Requests as an embedded page sends them: htmx, with the shop's session token."""


def post_as(client, session_token, shop, url, data):
    return client.post(
        url,
        data=data,
        headers={"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"},
    )
