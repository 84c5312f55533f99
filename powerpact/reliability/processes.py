"""Real processes for the reliability suite: each on a free loopback port, always stopped.

A ``Service`` is one child process (redis-server, gunicorn, a Huey consumer, the
sandbox) with its log file; it can be killed with SIGKILL and started again under
the same command, which is what the fault scenarios do to it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from powerpact.config import PROJECT_ROOT

PG_ADMIN = os.environ.get(
    "POWERPACT_RELIABILITY_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RESERVED_PORTS = {5000, 5432, 6379, 8765}


class ServiceError(RuntimeError):
    """A process did not come up (its log says why)."""


def free_port() -> int:
    """A port nobody listens on now, never one the demo or the shared services use."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


@dataclass
class Service:
    """One child process, started in its own process group so nothing it forks outlives it."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    ready: Callable[[], bool] = lambda: True
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own commands)
                self.command,
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        if not wait_for(lambda: self.running and self.ready(), timeout):
            tail = self.log_path.read_text(errors="replace")[-2000:]
            self.stop()
            raise ServiceError(f"{self.name} did not come up within {timeout:.0f}s:\n{tail}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no goodbye, as a crash would."""
        if self.running:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.kills += 1

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL whatever is still there after ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stray children of the group


@contextlib.contextmanager
def running(services: list[Service]) -> Iterator[list[Service]]:
    """Start ``services`` in order; stop every one of them, in reverse, whatever happens."""
    started: list[Service] = []
    try:
        for service in services:
            started.append(service)
            service.start()
        yield services
    finally:
        for service in reversed(started):
            service.stop()


@contextlib.contextmanager
def throwaway_database(prefix: str = "powerpact_reliability") -> Iterator[str]:
    """A new PostgreSQL database for one run, dropped afterwards (connections and all)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_service(port: int, logs: Path) -> Service:
    """A private redis-server (no persistence: a restart loses the queue, as a crash would)."""
    return Service(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dict(os.environ),
        logs / "redis.log",
        ready=lambda: port_open(port),
    )


def migrate(env: dict[str, str], log: Path) -> None:
    """Bring a throwaway database to the latest migration before the app's processes start."""
    with log.open("ab") as out:
        subprocess.run(  # noqa: S603 (our own command)
            [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
