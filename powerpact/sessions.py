"""Flask's signed-cookie sessions, minus the signer for a request that carries no cookie.

Flask's ``SecureCookieSessionInterface.open_session`` builds an itsdangerous signer
(a key derivation and a serializer) on every request before it looks for the
cookie. Most PowerPact requests carry none (every webhook, every embedded request
authenticated by its session token), so they get the empty session straight away;
a request with cookies, and saving a session, go through Flask's own code.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.environ.get("HTTP_COOKIE"):
            return self.session_class()
        return super().open_session(app, request)
