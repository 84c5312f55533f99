import json
import logging

from powerpact import create_app
from powerpact.logs import JsonFormatter, RequestIdFilter, SecretFilter, install_log_handler
from tests.conftest import settings_for


def make_record(msg, *args):
    return logging.LogRecord("powerpact.test", logging.INFO, __file__, 1, msg, args, None)


def test_secret_filter_masks_configured_secrets_and_token_shapes():
    record = make_record(
        "calling with %s and secret %s", "shpat_abcdef0123456789", "my-very-secret-value"
    )
    SecretFilter(["my-very-secret-value", "short"]).filter(record)
    message = record.getMessage()
    assert "shpat_abcdef0123456789" not in message
    assert "my-very-secret-value" not in message
    assert message.count("[redacted]") == 2


def test_json_lines_carry_the_request_id(app):
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "req-42"
        record = make_record("hello %s", "world")
        RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert line["message"] == "hello world"
    assert line["level"] == "INFO"


def test_records_outside_a_request_get_a_placeholder_id():
    record = make_record("background")
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


def test_a_token_logged_during_a_request_never_reaches_the_output(
    database_url, migrated_app, capsys
):
    app = create_app({"TESTING": True}, settings=settings_for(database_url))

    @app.get("/_test/log-token")
    def log_token():
        logging.getLogger("powerpact.test").warning("token is %s", "shpat_" + "f" * 32)
        return "ok"

    try:
        app.test_client().get("/_test/log-token")
        err = capsys.readouterr().err
    finally:
        install_log_handler(migrated_app.config["POWERPACT"])
    assert "shpat_ffff" not in err
    assert "token is [redacted]" in err
