"""Sessions: no signer for a request without cookies, Flask's signed cookie otherwise."""

from flask import session
from flask.sessions import SecureCookieSession

from powerpact import create_app
from powerpact.sessions import CookieSessionInterface
from tests.conftest import settings_for


def test_a_request_without_cookies_gets_an_empty_session_and_a_cookie_round_trips(
    database_url,
):
    app = create_app({"TESTING": True}, settings=settings_for(database_url))
    assert isinstance(app.session_interface, CookieSessionInterface)
    bare_request = app.request_class({"REQUEST_METHOD": "POST"})
    opened = app.session_interface.open_session(app, bare_request)
    assert isinstance(opened, SecureCookieSession) and dict(opened) == {}

    @app.get("/_test/session/<value>")
    def remember(value):
        session["value"] = value
        return {"ok": True}

    @app.get("/_test/session")
    def recall():
        return {"value": session.get("value")}

    client = app.test_client()
    assert client.get("/_test/session").json == {"value": None}
    client.get("/_test/session/kept")
    assert client.get("/_test/session").json == {"value": "kept"}
