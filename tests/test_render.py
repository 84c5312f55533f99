"""render.yaml describes a deployable blueprint whose commands name real modules."""

import importlib
import shlex
from pathlib import Path

import yaml

from powerpact.config import PROJECT_ROOT

BLUEPRINT = yaml.safe_load(Path(PROJECT_ROOT, "render.yaml").read_text())
SERVICES = {service["name"]: service for service in BLUEPRINT["services"]}


def resolve(target: str):
    """Import ``module:attr`` or ``module.attr`` and return the object."""
    module_name, _, attr = target.partition(":") if ":" in target else target.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def test_web_runs_gunicorn_on_the_wsgi_app_with_a_health_check():
    web = SERVICES["powerpact-web"]
    argv = shlex.split(web["startCommand"])
    assert argv[0] == "gunicorn"
    assert resolve(argv[1]).name == "powerpact"
    assert web["healthCheckPath"] == "/healthz"
    assert web["preDeployCommand"] == "flask --app wsgi db upgrade"


def test_worker_runs_the_projects_huey_instance():
    argv = shlex.split(SERVICES["powerpact-worker"]["startCommand"])
    assert argv[0] == "huey_consumer"
    from huey import Huey

    assert isinstance(resolve(argv[1]), Huey)


def test_database_and_key_value_are_wired_to_both_processes():
    assert BLUEPRINT["databases"][0]["name"] == "powerpact-db"
    assert SERVICES["powerpact-queue"]["type"] == "keyvalue"
    for name in ("powerpact-web", "powerpact-worker"):
        keys = {env.get("key") for env in SERVICES[name]["envVars"]}
        assert {"DATABASE_URL", "REDIS_URL"} <= keys


def test_every_setting_is_wired_and_no_secret_is_committed():
    group = BLUEPRINT["envVarGroups"][0]["envVars"]
    keys = {env["key"] for env in group} | {"DATABASE_URL", "REDIS_URL"}
    required = {
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "SHOPIFY_API_KEY",
        "SHOPIFY_API_SECRET",
        "SHOPIFY_SCOPES",
        "SHOPIFY_API_VERSION",
        "SHOPIFY_ADMIN_ORIGIN",
        "APP_URL",
        "RETAIL_SHOP",
        "TOKEN_ENCRYPTION_KEYS",
        "POWERPACT_ENV",
    }
    assert required <= keys
    secrets = {"SECRET_KEY", "SHOPIFY_API_SECRET", "TOKEN_ENCRYPTION_KEYS", "SHOPIFY_API_KEY"}
    for env in group:
        if env["key"] in secrets:
            assert "value" not in env, f"{env['key']} must not be committed"


def test_the_web_writes_no_access_log_of_its_own_beside_the_apps_request_line():
    """One line per request: the app's (``powerpact.logs.log_request``, which leaves out the
    query string where session tokens travel); a gunicorn access log would be a second."""
    argv = shlex.split(SERVICES["powerpact-web"]["startCommand"])
    assert not [a for a in argv if a.startswith(("--access-log", "--log-config"))]


def test_bench_intake_serves_both_apps_the_way_render_serves_the_web():
    """The intake budget compares against a bare app "on the same gunicorn setup": Render's."""
    from powerpact.bench.intake import Load

    argv = shlex.split(SERVICES["powerpact-web"]["startCommand"])
    option = {name: argv[argv.index(name) + 1] for name in ("--workers", "--threads", "--config")}
    assert option == {
        "--workers": str(Load().workers),
        "--threads": str(Load().threads),
        "--config": "gunicorn.conf.py",
    }
    assert "--preload" in argv
