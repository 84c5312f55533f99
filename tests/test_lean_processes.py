"""The web and worker processes load the product only, never its proving tools."""

import json
import subprocess
import sys
from pathlib import Path

PROVING_TOOLS = ("powerpact.sandbox", "powerpact.bench", "powerpact.reliability", "powerpact.demo")
ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from powerpact import create_app, create_worker_app
{build}
print(json.dumps(sorted(m for m in sys.modules if m.startswith("powerpact"))))
"""


def output_of(command: list[str]) -> str:
    """What ``command`` prints, run from the project's root in a fresh process."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def modules_after(build: str) -> list[str]:
    """The ``powerpact`` modules a fresh interpreter holds after ``build`` ran."""
    out = output_of([sys.executable, "-c", PROBE.format(build=build)])
    return json.loads(out.splitlines()[-1])


def proving_tools_in(modules: list[str]) -> list[str]:
    return [m for m in modules if m == "powerpact.demo" or m.startswith(PROVING_TOOLS)]


def test_the_web_app_imports_no_proving_tool():
    modules = modules_after("create_app()")
    assert "powerpact.orders.capture" in modules
    assert proving_tools_in(modules) == []


def test_the_worker_app_imports_no_proving_tool_and_no_view():
    modules = modules_after("import powerpact.tasks\ncreate_worker_app()")
    assert "powerpact.orders.tasks" in modules
    assert proving_tools_in(modules) == []
    assert [m for m in modules if m.endswith(("views", ".home", ".devlogin"))] == []


def test_the_worker_app_has_no_blueprints(migrated_app):
    from powerpact import create_worker_app

    worker = create_worker_app(settings=migrated_app.config["POWERPACT"])
    assert worker.blueprints == {}
    assert "POWERPACT" in worker.config


def test_the_flask_command_line_still_offers_the_proving_tools():
    out = output_of([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "--help"])
    for command in ("sandbox", "demo", "bench", "reliability", "rotate-token-keys", "db"):
        assert f"  {command} " in out
