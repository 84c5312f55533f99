"""``bench notifications``: a storm of events, with repeats, through the outbox to a real
SMTP server in this process (aiosmtpd).

``--events`` events are drawn from ``--events / --repeat`` distinct ones (a failed order
and its reason, for one of ``--partners`` partners; every fifth partner has two addresses),
shuffled, and pushed by ``--threads`` threads at once (a slice each, so an event's repeats
are pushed by several threads at the same moment), each emitting ``--batch`` at a time
and committing, as finders in several workers would. Every id an emit hands out is sent
by ``--senders`` threads calling the send task's function (``delivery.send_one``, as Huey's
worker threads do) over SMTP to the in-process server, which counts what arrives by its
``X-PowerPact-Event`` and ``To``.

Printed: events, distinct (event, recipient) pairs, rows made, messages received, duplicates
(received minus distinct received; must be 0), and the rates.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import replace
from typing import Any

import click
import flask_migrate
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from powerpact import create_app
from powerpact.bench.harness import RETAIL, temporary_database
from powerpact.config import SmtpSettings
from powerpact.db_types import utcnow
from powerpact.extensions import db
from powerpact.models import (
    NotificationKind,
    NotificationOutbox,
    NotificationSetting,
    OutboxStatus,
    PartnerStore,
    RetailStore,
)
from powerpact.notifications import delivery
from powerpact.notifications.outbox import Event, emit
from powerpact.notifications.transport import TRANSPORT_KEY, SmtpTransport

REASONS = ("insufficient_inventory", "variant_not_mapped", "reauthorization_required")


class Counting:
    """The SMTP server's handler: counts each message by (event, recipient)."""

    def __init__(self) -> None:
        self.received: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        event = ""
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"x-powerpact-event:"):
                event = line.split(b":", 1)[1].strip().decode()
                break
            if not line:
                break
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received[event, rcpt.lower()] += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(partners: int) -> dict[str, list[str]]:
    """The retail store and ``partners`` partners; each partner's addresses."""
    db.session.add(
        RetailStore(
            shop_domain=RETAIL,
            name="Bench Retail",
            access_token="bench",  # noqa: S106 (a bench shop, never called)
            contact_email="admin@bench-retail.example",
        )
    )
    addresses: dict[str, list[str]] = {}
    for n in range(partners):
        domain = f"bench-partner-{n:03d}.myshopify.com"
        addresses[domain] = [f"owner@partner-{n}.example"]
        db.session.add(
            PartnerStore(
                shop_domain=domain,
                name=f"Bench Partner {n}",
                access_token="bench",  # noqa: S106 (a bench shop, never called)
                contact_email=f"owner@partner-{n}.example",
                timezone="America/New_York",
            )
        )
        if n % 5 == 0:
            addresses[domain].append(f"ops@partner-{n}.example")
            db.session.add(
                NotificationSetting(
                    shop_domain=domain,
                    email=f"owner@partner-{n}.example, ops@partner-{n}.example",
                    muted=[],
                )
            )
    db.session.commit()
    return addresses


def storm(domains: list[str], events: int, repeat: int, rng: random.Random) -> list[Event]:
    distinct = max(1, events // repeat)
    at = utcnow().isoformat()
    pool = [
        Event(
            NotificationKind.ORDER_FAILED,
            domains[n % len(domains)],
            f"order_failed:{n}:{REASONS[n % 3]}",
            {
                "order_sync_id": n,
                "order_name": f"#{100000 + n}",
                "reason": REASONS[n % 3],
                "reason_text": "The partner's store refused the order for lack of stock.",
                "failed_at": at,
                "path": "/partner/orders?status=failed",
            },
        )
        for n in range(distinct)
    ]
    drawn = pool + [rng.choice(pool) for _ in range(events - distinct)]
    rng.shuffle(drawn)
    return drawn


def run_storm(
    app: Any, drawn: list[Event], threads: int, senders: int, batch: int
) -> dict[str, Any]:
    to_send: queue.Queue[int | None] = queue.Queue()
    errors: list[str] = []
    handed_out: list[int] = []
    lock = threading.Lock()

    def emitter(part: list[Event]) -> None:
        with app.app_context():
            try:
                for start in range(0, len(part), batch):
                    made = emit(part[start : start + batch])
                    db.session.commit()  # then enqueue: never a send before its commit
                    with lock:
                        handed_out.extend(made)
                    for outbox_id in made:
                        to_send.put(outbox_id)
            except Exception as exc:
                errors.append(f"emit: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    def sender() -> None:
        with app.app_context():
            try:
                while (outbox_id := to_send.get()) is not None:
                    for _ in range(3):
                        try:
                            delivery.send_one(outbox_id)
                            break
                        except delivery.SendFailed as exc:
                            errors.append(f"send: {exc}")
            finally:
                app.extensions[TRANSPORT_KEY].close()
                db.session.remove()

    # Each emitter a slice of the shuffled storm: an event's repeats land in several
    # slices, pushed by several threads at the same moment.
    size = len(drawn)
    parts = [drawn[i * size // threads : (i + 1) * size // threads] for i in range(threads)]
    started = time.perf_counter()
    workers = [threading.Thread(target=sender) for _ in range(senders)]
    emitters = [threading.Thread(target=emitter, args=(p,)) for p in parts]
    for t in workers + emitters:
        t.start()
    for t in emitters:
        t.join()
    emitted = time.perf_counter() - started
    for _ in workers:
        to_send.put(None)
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - started
    return {
        "events_pushed": sum(len(p) for p in parts),
        "handed_out": handed_out,
        "emit_seconds": emitted,
        "seconds": elapsed,
        "errors": errors,
    }


@click.command("notifications")
@click.option("--events", default=100_000, show_default=True, type=int)
@click.option("--repeat", default=4, show_default=True, type=int, help="events per distinct one")
@click.option("--partners", default=50, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int, help="concurrent emitters")
@click.option("--senders", default=4, show_default=True, type=int, help="send threads")
@click.option("--batch", default=500, show_default=True, type=int)
@click.option("--seed", "seed_value", default=22, show_default=True, type=int)
@with_appcontext
def notifications_command(
    events: int, repeat: int, partners: int, threads: int, senders: int, batch: int, seed_value: int
) -> None:
    """Push a storm of repeated events through the outbox to an in-process SMTP server."""
    from aiosmtpd.controller import Controller  # a dev dependency: the bench's alone

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per command
    settings = current_app.config["POWERPACT"]
    counting = Counting()
    port = free_port()
    controller = Controller(counting, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with temporary_database() as url:
            app = create_app(
                {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + senders + 2}}
                if url.startswith("postgresql")
                else {},
                settings=replace(settings, database_url=url, retail_shop=RETAIL, smtp=None),
            )
            app.extensions[TRANSPORT_KEY] = SmtpTransport(
                SmtpSettings(host="127.0.0.1", port=port, tls="none", timeout=10)
            )
            with app.app_context():
                flask_migrate.upgrade()
                try:
                    addresses = seed(partners)
                    drawn = storm(list(addresses), events, repeat, random.Random(seed_value))  # noqa: S311 (repeatable)
                    expected_pairs = len(
                        {(e.key, a) for e in drawn for a in addresses[e.shop_domain]}
                    )
                    result = run_storm(app, drawn, threads, senders, batch)
                    rows = db.session.scalar(select(func.count()).select_from(NotificationOutbox))
                    sent = db.session.scalar(
                        select(func.count())
                        .select_from(NotificationOutbox)
                        .where(NotificationOutbox.status == OutboxStatus.SENT)
                    )
                    database = db.engine.dialect.name
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        controller.stop()
    received = sum(counting.received.values())
    handed_out = result["handed_out"]
    click.echo(
        json.dumps(
            {
                "benchmark": "notifications",
                "database": database,
                "events": result["events_pushed"],
                "distinct_events": len({e.key for e in drawn}),
                "distinct_pairs": expected_pairs,
                "outbox_rows": rows,
                "ids_handed_out": len(handed_out),
                "ids_handed_out_twice": len(handed_out) - len(set(handed_out)),
                "messages_sent": sent,
                "messages_received": received,
                "duplicates": received - len(counting.received),
                "errors": len(result["errors"]),
                "first_errors": result["errors"][:3],
                "threads": threads,
                "senders": senders,
                "seconds": round(result["seconds"], 2),
                "emit_events_per_second": round(result["events_pushed"] / result["emit_seconds"]),
                "messages_per_second": round(received / result["seconds"], 1),
            },
            indent=2,
        )
    )
