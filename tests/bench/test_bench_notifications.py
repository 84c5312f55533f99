"""``bench notifications`` at a small size: every distinct (event, recipient) pair arrives
at the SMTP server once."""

import json

from powerpact.bench import bench_group


def test_bench_notifications_sends_each_pair_once(migrated_app):
    result = migrated_app.test_cli_runner().invoke(
        bench_group, ["notifications", "--events", "600", "--partners", "10", "--threads", "3"]
    )
    assert result.exit_code == 0, result.output
    start = result.output.index('{\n  "benchmark"')
    figures = json.JSONDecoder().raw_decode(result.output[start:])[0]
    assert figures["events"] == 600
    assert figures["distinct_events"] == 150
    assert figures["duplicates"] == 0
    assert figures["errors"] == 0
    assert figures["ids_handed_out_twice"] == 0
    # every fifth partner has two addresses: 2 of the 10 partners
    assert figures["distinct_pairs"] > figures["distinct_events"]
    assert (
        figures["outbox_rows"]
        == figures["messages_sent"]
        == figures["messages_received"]
        == figures["distinct_pairs"]
    )
