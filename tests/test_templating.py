"""Template filters shared by the pages."""

from powerpact.templating import duration


def test_a_duration_reads_in_milliseconds_under_a_second_and_seconds_above():
    assert duration(None) == "…"
    assert duration(0.016) == "16 ms"
    assert duration(0.9994) == "999 ms"
    assert duration(2.34) == "2.3 s"
