"""``flask --app wsgi demo``: the whole thing on one laptop, no PostgreSQL or Redis needed.

1. build the embedded database (SQLite under ``instance/``) afresh: the sandbox keeps its
   stores in memory and starts from the demo fixture every time, so yesterday's rows would
   name orders and products it no longer has;
2. start the Shopify sandbox with the demo stores, a Huey consumer and the web app (after
   checking that their ports are free, so the demo never talks to someone else's server);
3. install PowerPact on the retail store and the three roasters through the real
   OAuth redirects (app -> sandbox authorize -> app callback), as a merchant would;
4. print the one URL to open, and keep everything running until Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import click
import requests
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from powerpact.config import Settings
from powerpact.queue import make_huey
from powerpact.sandbox.fixtures import RETAIL, ROASTERS

SANDBOX_PORT = 8765
# Harbor Bean Co. holds 2 units of each imported variant back (its safety buffer): the
# retail store shows 2 fewer than the roaster has, never below 0.
BUFFERED_ROASTER = "harbor-bean-co.myshopify.com"
DEMO_BUFFER = 2


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def check_ports_free(app_port: int, sandbox_port: int) -> None:
    wanted = ((app_port, "app", "DEMO_PORT"), (sandbox_port, "sandbox", "SANDBOX_PORT"))
    for port, name, option in wanted:
        if port_in_use(port):
            raise click.ClickException(
                f"port {port} (the {name}) is already in use; choose another, "
                f"e.g. make demo {option}={port + 1}"
            )


def start_afresh(env: dict[str, str]) -> None:
    """Forget the previous demo: its SQLite database, whatever its queue still held, and the
    mail it sent (the maildir ``/dev/mail`` lists)."""
    settings = Settings.from_env(env)
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException("the demo runs on its own SQLite database only")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(url.database + suffix).unlink(missing_ok=True)
    make_huey(None, sqlite_path=settings.instance_dir / "huey.db").flush()
    shutil.rmtree(settings.instance_dir / "mail", ignore_errors=True)


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


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


def give_demo_buffer(flask: list[str], env: dict[str, str]) -> None:
    """Hold ``DEMO_BUFFER`` units of each of one roaster's variants back (``stock-buffer``)."""
    subprocess.run(  # noqa: S603
        [*flask, "stock-buffer", BUFFERED_ROASTER, str(DEMO_BUFFER)],
        env=env,
        check=True,
        capture_output=True,
    )
    click.echo(f"  {BUFFERED_ROASTER} holds back {DEMO_BUFFER} of each variant (safety buffer)")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--sandbox-port", default=SANDBOX_PORT, show_default=True, type=int)
@with_appcontext
def demo_command(port: int, sandbox_port: int) -> None:
    """Run the sandbox, a worker and the app, install every demo store, print the URL."""
    settings = current_app.config["POWERPACT"]
    if settings.is_production:
        raise click.ClickException("the demo runs only outside production")
    check_ports_free(port, sandbox_port)
    app_url = f"http://127.0.0.1:{port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        **os.environ,
        "APP_URL": app_url,
        "SHOPIFY_ADMIN_ORIGIN": f"{sandbox_url}/shops/{{shop}}",
        "POWERPACT_INSTANCE_DIR": str(settings.instance_dir),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    for name in ("SMTP_URL", "SMTP_HOST"):  # the demo's mail stays in instance/mail
        env.pop(name, None)
    start_afresh(env)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    logs = settings.instance_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    flask = [str(bin_dir / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    processes = [
        start(
            [*flask, "sandbox", "--port", str(sandbox_port), "--fixture", "demo"],
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
        wait_until_up(f"{sandbox_url}/_sandbox/shops")
        wait_until_up(f"{app_url}/healthz")
        for shop in [RETAIL, *(r["domain"] for r in ROASTERS)]:
            install(app_url, shop)
            click.echo(f"  installed PowerPact on {shop}")
        give_demo_buffer(flask, env)
        click.echo("")
        click.echo(f"  PowerPact demo: open {app_url}/dev/login")
        click.echo(f"  Sandbox console (customers, partner orders, stock): {sandbox_url}/_sandbox/")
        click.echo(f"  Mail PowerPact sent (no SMTP in the demo): {app_url}/dev/mail")
        click.echo(f"  Logs in {logs}")
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
