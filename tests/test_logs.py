import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import Response

from powerpact import create_app
from powerpact.logs import (
    JsonFormatter,
    RequestIdFilter,
    SecretFilter,
    adopt_huey_logger,
    install_log_handler,
    log_request,
)
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
        with capsys.disabled():  # the handler writes to the real stderr again, not capsys's
            install_log_handler(migrated_app.config["POWERPACT"])
    assert "shpat_ffff" not in err
    assert "token is [redacted]" in err


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "powerpact.requests"]


def test_a_page_load_is_one_line_with_method_path_status_duration_and_shop(
    as_shop, personas, caplog
):
    caplog.set_level(logging.INFO)
    response = as_shop("/partner/orders?status=failed", personas.alice, htmx=False)
    assert response.status_code == 200
    [line] = request_lines(caplog)
    message = line.getMessage()
    assert line.levelno == logging.INFO
    assert message.startswith("request method=GET path=/partner/orders status=200 duration_ms="), (
        message
    )
    assert message.endswith(" shop=alice-roasters.myshopify.com")
    assert float(message.split("duration_ms=")[1].split()[0]) >= 0
    assert "id_token" not in caplog.text and "failed" not in message  # no query string


def test_a_request_of_nobody_names_no_shop_and_a_5xx_logs_at_warning(app, client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/healthz")
    [line] = request_lines(caplog)
    assert line.getMessage().startswith("request method=GET path=/healthz status=200 ")
    assert line.getMessage().endswith(" shop=-")

    caplog.clear()
    with app.test_request_context("/readyz"):
        log_request(Response("down", status=503))
    [line] = request_lines(caplog)
    assert "status=503" in line.getMessage() and line.levelno == logging.WARNING


def test_a_verified_webhook_names_its_shop_and_a_forged_one_does_not(send_webhook, caplog):
    caplog.set_level(logging.INFO)
    send_webhook("orders/create", {"id": 1}, shop="alice-roasters.myshopify.com")
    send_webhook("orders/create", {"id": 2}, shop="alice-roasters.myshopify.com", secret="x" * 40)
    signed, forged = (r.getMessage() for r in request_lines(caplog))
    assert "method=POST path=/webhooks status=200 " in signed
    assert signed.endswith(" shop=alice-roasters.myshopify.com")
    assert "status=401 " in forged and forged.endswith(" shop=-")


def test_a_path_cannot_forge_a_line_of_its_own(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/nowhere%0Arequest method=GET path=/admin status=200")
    [line] = request_lines(caplog)
    message = line.getMessage()
    assert "\n" not in message
    assert "path=/nowhere\\nrequest" in message and "status=404" in message


def test_huey_s_stream_handler_gives_way_to_ours_and_a_log_file_stays(app, tmp_path):
    huey_logger = logging.getLogger("huey")
    stream, log_file = logging.StreamHandler(), logging.FileHandler(tmp_path / "huey.log")
    huey_logger.addHandler(stream)
    huey_logger.addHandler(log_file)
    try:
        adopt_huey_logger()
        assert stream not in huey_logger.handlers
        assert log_file in huey_logger.handlers
    finally:
        huey_logger.removeHandler(stream)
        huey_logger.removeHandler(log_file)
        log_file.close()


def test_a_real_worker_prints_each_huey_line_once(tmp_path):
    """``huey_consumer powerpact.tasks.huey`` as Render and the demo start it: each of
    Huey's lines came out twice, through its own handler and through PowerPact's."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"POWERPACT_INSTANCE_DIR": str(tmp_path), "PYTHONPATH": str(root)}
    consumer = Path(sys.executable).parent / "huey_consumer"
    out = tmp_path / "worker.log"
    with out.open("wb") as handle:
        process = subprocess.Popen(
            [str(consumer), "powerpact.tasks.huey", "--workers", "1", "--no-periodic"],
            cwd=root,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "Executing " not in out.read_text():
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    text = out.read_text()
    lines = text.splitlines()
    started = [line for line in lines if "Huey consumer started" in line]
    executing = [line.split("Executing ", 1)[1] for line in lines if "Executing " in line]
    assert len(started) == 1, text
    assert executing, text
    assert len(executing) == len(set(executing)), text
    assert started[0].split()[2] == "INFO", "PowerPact's format, not Huey's"
