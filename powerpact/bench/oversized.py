"""``bench oversized``: what a huge chunked webhook costs a production gunicorn worker.

PowerPact is served as on Render (``wsgi:app``, ``gunicorn.conf.py``, ``--preload``,
production settings, gthread unless told otherwise) with one worker, so that every
request lands on the worker whose memory is read. The database is a throwaway one and
the queue a name used once: the refused request reaches neither.

1. Start gunicorn on a free loopback port and warm the worker with one small webhook
   (wrong HMAC), so that what a first request loads counts as idle.
2. Read the worker's resident memory (``VmRSS`` in ``/proc/<pid>/status``): idle.
3. Send ``--megabytes`` MB to ``/webhooks`` with ``Transfer-Encoding: chunked`` (no
   ``Content-Length``) and a wrong HMAC, one 64 KiB chunk at a time from a loop that
   holds no more than that, until all is sent or the server has answered.
4. Read the answer's status line, then the worker's ``VmRSS`` and its peak since it
   started (``VmHWM``): a body held whole, even for a moment, shows in the peak.

``--root`` serves another checkout of PowerPact (to measure the code before a change).
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from powerpact.bench.harness import RETAIL, temporary_database
from powerpact.bench.intake import server_environment
from powerpact.config import PROJECT_ROOT
from powerpact.reliability.processes import Service, free_port, http_ok, running

BIN = Path(sys.executable).parent
CHUNK_BYTES = 64 * 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    """What one oversized request did: the answer, what got sent, the worker's memory."""

    status: int | None
    sent_bytes: int
    seconds: float
    idle_rss_mib: float
    idle_peak_rss_mib: float
    after_rss_mib: float
    peak_rss_mib: float


def gunicorn_service(
    root: Path, env: dict[str, str], folder: Path, worker_class: str
) -> tuple[Service, int]:
    """One worker in Render's setup (``--preload``, ``gunicorn.conf.py``) on a free port."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "wsgi:app",
        "--chdir",
        str(root),
        "--config",
        str(root / "gunicorn.conf.py"),
        "--preload",
        "--workers",
        "1",
        "--threads",
        "8",
        "--worker-class",
        worker_class,
        "--bind",
        f"127.0.0.1:{port}",
    ]
    service = Service(
        "gunicorn",
        command,
        env,
        folder / "gunicorn.log",
        ready=lambda: http_ok(f"http://127.0.0.1:{port}/healthz"),
    )
    return service, port


def worker_pid(master_pid: int, timeout: float = 30) -> int:
    """The master's one child (its worker)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = children.read_text().split()
        if len(pids) == 1:
            return int(pids[0])
        time.sleep(0.1)
    raise click.ClickException(f"gunicorn {master_pid} has no single worker")


def memory_mib(pid: int) -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return fields


def request_head(port: int, *, chunked: bool, length: int = 0) -> bytes:
    """A webhook's headers as Shopify sends them, but with an HMAC that cannot match."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    lines = [
        "POST /webhooks HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        framing,
        "X-Shopify-Topic: orders/create",
        f"X-Shopify-Shop-Domain: {RETAIL}",
        f"X-Shopify-Webhook-Id: oversized-{uuid.uuid4()}",
        "X-Shopify-Hmac-Sha256: d3JvbmcgaG1hYw==",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int | None:
    """The status code of an HTTP/1.1 status line, or None if there is none."""
    parts = answer.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def read_answer(sock: socket.socket, timeout: float) -> bytes:
    """Whatever the server sent, up to the end of its headers (or its close)."""
    sock.settimeout(timeout)
    answer = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer


def send_chunked(port: int, total_bytes: int, timeout: float = 120) -> tuple[int | None, int]:
    """Stream ``total_bytes`` as chunks until all is sent or the server answers; return the
    answer's status (None without one) and how many body bytes were sent."""
    frame = f"{CHUNK_BYTES:x}\r\n".encode() + b"x" * CHUNK_BYTES + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request_head(port, chunked=True))
        deadline = time.monotonic() + timeout
        try:
            while sent < total_bytes and time.monotonic() < deadline:
                readable, writable, _ = select.select([sock], [sock], [], 1.0)
                if readable:
                    break
                if writable:
                    sock.sendall(frame)
                    sent += CHUNK_BYTES
            else:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed while the body was still coming: its answer is read below
        return status_of(read_answer(sock, timeout)), sent


def send_small(port: int) -> int | None:
    """One small webhook with a wrong HMAC: warms the worker (answered 401)."""
    body = b'{"id": 1}'
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request_head(port, chunked=False, length=len(body)) + body)
        return status_of(read_answer(sock, 30))


@contextlib.contextmanager
def production_gunicorn(root: Path, worker_class: str) -> Iterator[tuple[Service, int]]:
    """PowerPact under gunicorn with production settings, a throwaway database and queue."""
    with (
        tempfile.TemporaryDirectory(prefix="powerpact-oversized-") as tmp,
        temporary_database() as url,
    ):
        folder = Path(tmp)
        env = server_environment(url, folder, f"powerpact-oversized-{uuid.uuid4().hex[:10]}")
        service, port = gunicorn_service(root, env, folder, worker_class)
        with running([service]):
            yield service, port


def measure_oversized(
    megabytes: int, root: Path = PROJECT_ROOT, worker_class: str = "gthread"
) -> Outcome:
    """Steps 1 to 4 of the module's docstring."""
    with production_gunicorn(root, worker_class) as (service, port):
        assert service.process is not None
        worker = worker_pid(service.process.pid)
        send_small(port)
        idle = memory_mib(worker)
        started = time.monotonic()
        status, sent = send_chunked(port, megabytes * MIB)
        seconds = time.monotonic() - started
        after = memory_mib(worker)
    return Outcome(
        status=status,
        sent_bytes=sent,
        seconds=round(seconds, 2),
        idle_rss_mib=idle["VmRSS"],
        idle_peak_rss_mib=idle["VmHWM"],
        after_rss_mib=after["VmRSS"],
        peak_rss_mib=after["VmHWM"],
    )


@click.command("oversized")
@click.option("--megabytes", default=300, show_default=True, type=click.IntRange(1))
@click.option(
    "--worker-class", default="gthread", show_default=True, type=click.Choice(["gthread", "sync"])
)
@click.option(
    "--root",
    default=str(PROJECT_ROOT),
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The PowerPact checkout gunicorn serves.",
)
def oversized_command(megabytes: int, worker_class: str, root: Path) -> None:
    """Stream a huge chunked webhook with a wrong HMAC; print the worker's memory."""
    outcome = measure_oversized(megabytes, root.resolve(), worker_class)
    figures = {
        "benchmark": "oversized",
        "megabytes": megabytes,
        "worker_class": worker_class,
        "root": str(root.resolve()),
        **asdict(outcome),
        "grew_mib": round(outcome.after_rss_mib - outcome.idle_rss_mib, 1),
        "peak_over_idle_mib": round(outcome.peak_rss_mib - outcome.idle_rss_mib, 1),
    }
    click.echo(json.dumps(figures, indent=2))
