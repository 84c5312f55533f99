"""What a request may carry: ids within PostgreSQL's ``integer``, ASCII digits, no NUL."""

import pytest
from werkzeug.routing import IntegerConverter

from powerpact.inputs import INTEGER_MAX, whole_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(INTEGER_MAX), INTEGER_MAX),
        (str(INTEGER_MAX + 1), None),
        ("99999999999999999999", None),
        ("0", None),
        ("-1", None),
        (" 1", None),
        ("²", None),
        ("١٢٣", None),
        ("1e3", None),
        ("", None),
        (None, None),
        ("9" * 10_240, None),
    ],
)
def test_a_whole_number_is_ascii_digits_within_postgresqls_integer(value, expected):
    assert whole_number(value) == expected


def test_a_whole_number_can_have_other_bounds():
    assert whole_number("0", low=0) == 0
    assert whole_number("7", high=6) is None


def int_routes(app):
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


@pytest.mark.parametrize("id_text", [str(2**31), str(2**63), "99999999999999999999", "١٢٣"])
def test_every_int_route_answers_404_for_an_id_past_postgresqls_integer(
    app, client, personas, session_token, id_text
):
    routes = int_routes(app)
    assert len(routes) >= 6
    for rule, method in routes:
        shop = personas.alice if rule.rule.startswith("/partner") else personas.retail
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", id_text)
        response = client.open(
            path,
            method=method,
            headers={"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"},
        )
        assert response.status_code == 404, f"{method} {rule.rule}"


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("GET", "/partner/orders", "q"),
        ("GET", "/partner/orders.csv", "q"),
        ("GET", "/admin/orders", "q"),
        ("GET", "/admin/orders", "partner"),
        ("GET", "/admin/sync-runs", "partner"),
        ("GET", "/admin/inventory/sync", "partner"),
        ("POST", "/admin/inventory/sync", "partner"),
    ],
)
def test_a_nul_character_in_a_field_is_refused_with_400(
    client, personas, session_token, method, url, field
):
    shop = personas.alice if url.startswith("/partner") else personas.retail
    headers = {"Authorization": f"Bearer {session_token(shop)}", "HX-Request": "true"}
    value = "alice\x00"
    if method == "GET":
        query = {"since": "2026-01-01T00:00:00+00:00", field: value}
        response = client.get(url, query_string=query, headers=headers)
    else:
        response = client.post(url, data={field: value}, headers=headers)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_a_nul_character_in_a_field_name_is_refused_too(client):
    assert client.get("/healthz?a%00b=1").status_code == 400
