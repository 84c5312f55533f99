"""``flask --app wsgi demo``: the whole thing on one laptop, no PostgreSQL or Redis needed.

1. build the embedded database (SQLite under ``instance/``);
2. start the Shopify sandbox with the demo stores, a Huey consumer and the web app;
3. install PowerPact on the retail store and the three roasters through the real
   OAuth redirects (app -> sandbox authorize -> app callback), as a merchant would;
4. print the one URL to open, and keep everything running until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from powerpact.sandbox.fixtures import RETAIL, ROASTERS

SANDBOX_PORT = 8765


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise click.ClickException(f"{url} did not come up within {timeout:.0f}s")


def install(app_url: str, shop: str) -> None:
    """Follow the install redirects with one browser-like session (it keeps the state cookie)."""
    session = requests.Session()
    response = session.get(f"{app_url}/auth/install", params={"shop": shop}, timeout=30)
    if response.status_code >= 400:
        raise click.ClickException(f"installing on {shop} failed: HTTP {response.status_code}")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def demo_command(port: int) -> None:
    """Run the sandbox, a worker and the app, install every demo store, print the URL."""
    settings = current_app.config["POWERPACT"]
    if settings.is_production:
        raise click.ClickException("the demo runs only outside production")
    app_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "APP_URL": app_url,
        "SHOPIFY_ADMIN_ORIGIN": f"http://127.0.0.1:{SANDBOX_PORT}/shops/{{shop}}",
        "POWERPACT_INSTANCE_DIR": str(settings.instance_dir),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    logs = settings.instance_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    flask = [str(bin_dir / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    processes = [
        start(
            [*flask, "sandbox", "--port", str(SANDBOX_PORT), "--fixture", "demo"],
            env,
            logs / "sandbox.log",
        ),
        start(
            [
                str(bin_dir / "huey_consumer"),
                "powerpact.tasks.huey",
                "--workers",
                "4",
                "--worker-type",
                "thread",
            ],
            env,
            logs / "worker.log",
        ),
        start([*flask, "run", "--port", str(port), "--with-threads"], env, logs / "web.log"),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{SANDBOX_PORT}/_sandbox/shops")
        wait_until_up(f"{app_url}/healthz")
        for shop in [RETAIL, *(r["domain"] for r in ROASTERS)]:
            install(app_url, shop)
            click.echo(f"  installed PowerPact on {shop}")
        click.echo("")
        click.echo(f"  PowerPact demo: open {app_url}/dev/login")
        click.echo(f"  (sandbox Shopify on http://127.0.0.1:{SANDBOX_PORT}, logs in {logs})")
        click.echo("  Ctrl-C stops everything.")
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        raise click.ClickException(f"a demo process stopped; see the logs in {logs}")
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
