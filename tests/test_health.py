from powerpact import create_app
from tests.conftest import settings_for


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_database_and_queue(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert body["failing"] == []
    assert body["checks"]["database"] == {"ok": True, "detail": "postgresql"}
    assert body["checks"]["queue"]["ok"] is True


def test_readyz_names_the_database_when_it_is_down():
    app = create_app(
        {"TESTING": True},
        settings=settings_for("postgresql://postgres@127.0.0.1:1/none"),
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["database"]
    assert "OperationalError" in response.json["checks"]["database"]["detail"]


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 16
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert hostile.headers["X-Request-ID"] != "<script>"
