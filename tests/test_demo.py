"""``flask demo``: it starts afresh, and refuses ports someone else already serves."""

import socket

import click
import pytest

from powerpact import demo
from powerpact.queue import make_huey


def test_a_port_in_use_stops_the_demo_with_the_setting_to_change(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        taken = server.getsockname()[1]
        with pytest.raises(click.ClickException, match=f"DEMO_PORT={taken + 1}"):
            demo.check_ports_free(taken, 1)
        with pytest.raises(click.ClickException, match="the sandbox"):
            demo.check_ports_free(1, taken)
    demo.check_ports_free(1, 2)  # nothing listens on ports 1 and 2 on loopback


def test_each_demo_starts_from_an_empty_database_and_queue(tmp_path):
    database = tmp_path / "powerpact.db"
    database.write_bytes(b"yesterday's orders")
    (tmp_path / "powerpact.db-wal").write_bytes(b"")
    queue = make_huey(None, name="powerpact", sqlite_path=tmp_path / "huey.db")
    queue.enqueue(queue.task()(lambda: None).s())
    assert queue.pending_count() == 1

    demo.start_afresh({"POWERPACT_INSTANCE_DIR": str(tmp_path)})

    assert not database.exists() and not (tmp_path / "powerpact.db-wal").exists()
    assert queue.pending_count() == 0


def test_the_demo_never_empties_a_server_database(tmp_path):
    env = {"POWERPACT_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": "postgresql://x@h/db"}
    with pytest.raises(click.ClickException, match="SQLite"):
        demo.start_afresh(env)
