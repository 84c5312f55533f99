"""A throwaway world for benchmarks: the sandbox on a loopback port, a fresh database, the app."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import flask_migrate
import psycopg
import requests
from flask import Flask, current_app
from gunicorn.app.base import BaseApplication
from sqlalchemy import Engine, select, text
from werkzeug.serving import BaseWSGIServer, make_server

from powerpact import create_app
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore
from powerpact.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from powerpact.sandbox.core import CallRecord
from powerpact.shopify.clients import close_connections

PG_ADMIN = os.environ.get("POWERPACT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
RETAIL = "bench-retail.myshopify.com"


@dataclass
class World:
    """The app, the sandbox and its server; ``sandbox`` is only current in-process.

    Inside ``sandbox_in_own_process`` the sandbox lives on in a child process: read
    what it did through ``call_summaries`` and ``orders`` (the control API).
    """

    app: Flask
    sandbox: Sandbox
    base: str
    server: BaseWSGIServer

    def install(self, domain: str, name: str, *, retail: bool = False, **settings: Any) -> Any:
        """A shop with PowerPact installed: a sandbox token and the row that holds it."""
        shop = self.sandbox.add_shop(domain, name, **settings)
        token = self.sandbox.store.issue_token(
            domain, ["write_orders"], expiring=False, now=time.time()
        )
        model = RetailStore if retail else PartnerStore
        row = model(
            shop_domain=domain,
            name=name,
            access_token=token.value,
            location_id=shop.location_id if retail else None,
            installed_at=utcnow(),
        )
        db.session.add(row)
        return shop, row

    def app_retail(self) -> RetailStore:
        return db.session.scalars(select(RetailStore)).one()

    def calls(self, shops: list[str]) -> list[CallRecord]:
        return [c for s in shops for c in self.sandbox.calls.get(s, [])]

    def control(self, path: str) -> Any:
        response = requests.get(f"{self.base}/_sandbox{path}", timeout=60)
        response.raise_for_status()
        return response.json()

    def call_summaries(self, shops: list[str]) -> dict[str, dict[str, Any]]:
        """Each shop's calls, cost and throttled count, as the sandbox counted them."""
        return {shop: self.control(f"/shops/{shop}/calls") for shop in shops}

    def orders(self, shop: str) -> list[dict[str, Any]]:
        return self.control(f"/shops/{shop}")["orders"]

    @contextlib.contextmanager
    def sandbox_in_own_process(self) -> Iterator[CpuMeter]:
        """Serve the sandbox from a forked child, as Shopify is another machine.

        In one process the sandbox and PowerPact take turns on one interpreter
        lock, so a run would time their sum. The child inherits the sandbox as
        built and listens on the same port, so the app's settings need no change;
        gunicorn serves it there with keep-alive, as Shopify does.
        The meter counts the CPU each side uses until its ``stop``.
        """
        self.server.shutdown()
        close_connections()
        child = os.fork()
        if child == 0:  # pragma: no cover (the child's coverage is not collected)
            try:
                KeepAliveServer(self.server.app, self.server.host, self.server.port).run()
            finally:
                os._exit(0)
        try:
            wait_until_answering(f"{self.base}/_sandbox/shops")
            engine = db.engine
            meter = CpuMeter(sandbox_pid=child, database_pids=lambda: database_pids(engine))
            meter.start()
            yield meter
        finally:
            os.kill(child, signal.SIGTERM)
            os.waitpid(child, 0)


class KeepAliveServer(BaseApplication):
    """gunicorn in this process: one threaded worker, so the sandbox's state stays in one place."""

    def __init__(self, wsgi: Any, host: str, port: int) -> None:
        self.application = wsgi
        self.options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": 32,
            "keepalive": 30,
            "loglevel": "warning",
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def run_in_processes(app: Flask, groups: list[list[str]], work: Callable[[str], Any]) -> float:
    """Run ``work`` on every item, each group in a forked process of its own, its items in threads.

    As production runs pushes in several Huey worker processes (one interpreter
    lock each), not in threads of one. Returns the CPU seconds the children used.
    Raises if a child failed.
    """
    close_connections()
    children = []
    for group in groups:
        child = os.fork()
        if child == 0:  # pragma: no cover (the child's coverage is not collected)
            status = 1
            try:
                with app.app_context():
                    db.engine.dispose(close=False)
                    with ThreadPoolExecutor(max_workers=len(group)) as pool:
                        list(pool.map(work, group))
                status = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(status)
        children.append(child)
    cpu, failed = 0.0, 0
    for child in children:
        _, status, usage = os.wait4(child, 0)
        cpu += usage.ru_utime + usage.ru_stime
        failed += os.waitstatus_to_exitcode(status) != 0
    if failed:
        raise RuntimeError(f"{failed} of {len(children)} worker processes failed")
    return cpu


def split_evenly(items: list[str], parts: int) -> list[list[str]]:
    """``items`` dealt round-robin into at most ``parts`` non-empty groups."""
    return [group for group in (items[i::parts] for i in range(parts)) if group]


def wait_until_answering(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=2).raise_for_status()
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (gunicorn's worker is the sandbox's child)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            kids = [int(k) for k in children.read().split()]
    except OSError:
        return [pid]
    return [pid, *(p for kid in kids for p in process_tree(kid))]


def database_pids(engine: Engine) -> list[int]:
    """The PostgreSQL backends serving this run's database (none on SQLite)."""
    if engine.dialect.name != "postgresql":
        return []
    query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    with engine.connect() as connection:
        return list(connection.scalars(query))


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process, from ``/proc`` (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU seconds spent by PowerPact, the sandbox and PostgreSQL during a block.

    On a machine whose cores are all busy, ``cpu_floor_seconds`` (the sum over
    the cores) bounds the wall time from below whatever the rate limits allow.
    Database backends come and go with the worker processes' pools, so a thread
    samples them while the block runs; one that opened during it counts whole.
    """

    sandbox_pid: int
    database_pids: Callable[[], list[int]]
    sample_every: float = 0.25
    figures: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._powerpact = time.process_time()
        self._sandbox = self._sandbox_cpu()
        self._backends = {pid: [cpu, cpu] for pid, cpu in self._backend_cpu().items()}
        self._stopped = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def stop(self, powerpact_children: float = 0.0) -> dict[str, float]:
        """The CPU used since ``start``; ``powerpact_children``: PowerPact's worker processes."""
        self._stopped.set()
        self._sampler.join()
        self._record(self._backend_cpu())
        spent = {
            "powerpact": round(time.process_time() - self._powerpact + powerpact_children, 2),
            "sandbox": round(self._sandbox_cpu() - self._sandbox, 2),
            "postgresql": round(sum(last - first for first, last in self._backends.values()), 2),
        }
        cores = os.cpu_count() or 1
        self.figures = {
            **{f"{k}_cpu_seconds": v for k, v in spent.items()},
            "cores": cores,
            "cpu_floor_seconds": round(sum(spent.values()) / cores, 2),
        }
        return self.figures

    def _sandbox_cpu(self) -> float:
        return sum(process_cpu_seconds(p) for p in process_tree(self.sandbox_pid))

    def _backend_cpu(self) -> dict[int, float]:
        return {pid: process_cpu_seconds(pid) for pid in self.database_pids()}

    def _record(self, readings: dict[int, float]) -> None:
        for pid, cpu in readings.items():
            first_and_last = self._backends.setdefault(pid, [0.0, 0.0])
            first_and_last[1] = max(cpu, first_and_last[1])

    def _sample(self) -> None:
        while not self._stopped.wait(self.sample_every):
            self._record(self._backend_cpu())


@contextlib.contextmanager
def temporary_database() -> Iterator[str]:
    """A new PostgreSQL database when one answers locally, else a SQLite file."""
    name = f"powerpact_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    try:
        yield "postgresql+psycopg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def bench_world(plan: str = "enterprise") -> Iterator[World]:
    settings = current_app.config["POWERPACT"]
    sandbox_app = create_sandbox_app(
        SandboxConfig(
            api_key=settings.shopify_api_key,
            api_secret=settings.shopify_api_secret,
            transport=lambda url, headers, body: 200,
            default_plan=plan,
        )
    )
    server = make_server("127.0.0.1", 0, sandbox_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with temporary_database() as url:
            bench_settings = replace(
                settings,
                database_url=url,
                shopify_admin_origin=f"{base}/shops/{{shop}}",
                retail_shop=RETAIL,
            )
            app = create_app(
                {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20}}
                if url.startswith("postgresql")
                else {},
                settings=bench_settings,
            )
            with app.app_context():
                flask_migrate.upgrade()
                try:
                    yield World(app, sandbox_app.extensions["sandbox"], base, server)
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        server.shutdown()


def rate_limit_bound(costs: dict[str, float], sandbox: Sandbox) -> float:
    """Seconds the buckets alone force: each shop's cost beyond its bucket, at its restore rate."""
    bound = 0.0
    for shop, cost in costs.items():
        bucket = sandbox.buckets[shop]
        bound = max(bound, max(0.0, cost - bucket.maximum) / bucket.restore_rate)
    return bound


def ceil_div(a: int, b: int) -> int:
    return math.ceil(a / b) if a else 0
