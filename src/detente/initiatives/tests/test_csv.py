"""Reading a metrics CSV: the points, and each refusal naming file, line and column."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.core.errors import InputError
from detente.initiatives.csvfile import Point, read_metrics_csv

METRICS = {"login_success_rate", "drop_off_rate"}
T0 = dt.datetime(2026, 10, 5, 8, 0, tzinfo=dt.UTC)


def test_a_wide_csv_becomes_points_naive_times_are_utc() -> None:
    data = (
        "\ufefftimestamp,login_success_rate,drop_off_rate\r\n"
        "2026-10-05T08:00:00Z,98.5,4.1\r\n"
        "2026-10-05T10:00:00+01:00,98.25,4.0\r\n"
        "\r\n"
        "2026-10-05T10:00:00,97,5\r\n"
    ).encode()
    points = read_metrics_csv(data, metrics=METRICS, source="m.csv")
    t1, t2 = T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)
    assert points == [
        Point("login_success_rate", T0, 98.5), Point("drop_off_rate", T0, 4.1),
        Point("login_success_rate", t1, 98.25), Point("drop_off_rate", t1, 4.0),
        Point("login_success_rate", t2, 97.0), Point("drop_off_rate", t2, 5.0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,login_success_rate\n2026-10-05T08:00Z,\n",
         "m.csv, record line 2, field 'login_success_rate': no value; every row gives every "
         "column's metric (a metric on another cadence goes in a file of its own)"),
        ("timestamp,login_success_rate\n2026-10-05T08:00Z,98\n2026-10-05T08:00Z,97\n",
         "m.csv, record line 3, field 'timestamp': timestamp 2026-10-05T08:00Z also on line 2"),
        ("timestamp,login_success_rate\n2026-10-05T08:00Z,high\n",
         "m.csv, record line 2, field 'login_success_rate': not a number: 'high'"),
        ("timestamp,login_success_rate\n2026-10-05T08:00Z,nan\n",
         "m.csv, record line 2, field 'login_success_rate': not a finite number: 'nan'"),
        ("timestamp,login_success_rate\nyesterday,98\n",
         "m.csv, record line 2, field 'timestamp': not an ISO 8601 time: 'yesterday'"),
        ("timestamp,login_success_rate\n2026-10-05T09:00Z,98\n2026-10-05T08:00Z,98\n",
         "m.csv, record line 3, field 'timestamp': rows are in time order"),
        ("timestamp,nps\n2026-10-05T09:00Z,30\n",
         "m.csv, record line 1, field 'nps': unknown metric 'nps'; this initiative guards "
         "drop_off_rate, login_success_rate"),
        ("time,login_success_rate\n", "m.csv, record line 1: the first column is 'timestamp'"),
        ("timestamp,login_success_rate\n2026-10-05T09:00Z,98,4\n",
         "m.csv, record line 2: 3 cells, the header has 2"),
        ("timestamp,login_success_rate\n", "m.csv: no rows"),
    ],
)  # fmt: skip
def test_bad_rows_are_refused_by_line_and_column(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        read_metrics_csv(text.encode(), metrics=METRICS, source="m.csv")
    assert str(caught.value) == message


def test_binary_is_not_csv() -> None:
    with pytest.raises(InputError, match=r"m\.csv: not UTF-8 text"):
        read_metrics_csv(b"\xff\xfe\x00", metrics=METRICS, source="m.csv")


HOURLY = "timestamp,login_success_rate\n" + "".join(
    f"2026-10-05T{hour:02d}:00Z,98\n" for hour in (0, 1, 2, 3, 5, 6)
)


def test_a_gap_in_time_is_refused_naming_both_lines_and_the_cadence() -> None:
    with pytest.raises(InputError) as caught:
        read_metrics_csv(HOURLY.encode(), metrics=METRICS, source="m.csv")
    assert str(caught.value) == (
        "m.csv, record line 6, field 'timestamp': a gap in time: 2 h after line 5 "
        "(2026-10-05T03:00:00+00:00); this file's rows are 1 h apart. Fill the missing rows, or "
        "upload each side of the gap as a file of its own (the missing time then shows as metric "
        "unavailable)"
    )


def test_each_side_of_a_gap_is_accepted_on_its_own_and_jitter_is_no_gap() -> None:
    lines = HOURLY.splitlines()
    before = "\n".join(lines[:5]) + "\n"
    after = "\n".join([lines[0], *lines[5:]]) + "\n"
    assert len(read_metrics_csv(before.encode(), metrics=METRICS, source="m.csv")) == 4
    assert len(read_metrics_csv(after.encode(), metrics=METRICS, source="m.csv")) == 2
    jitter = "timestamp,login_success_rate\n" + "".join(
        f"2026-10-05T{hour:02d}:{minute:02d}Z,98\n"
        for hour, minute in ((0, 0), (1, 10), (1, 58), (3, 5), (4, 0))
    )
    assert len(read_metrics_csv(jitter.encode(), metrics=METRICS, source="m.csv")) == 5


def test_a_daily_file_has_its_own_cadence() -> None:
    daily = "timestamp,login_success_rate\n" + "".join(
        f"2026-10-{day:02d}T00:00Z,98\n" for day in (1, 2, 3, 4, 6)
    )
    with pytest.raises(InputError, match=r"line 6, field 'timestamp': a gap in time: 2 d after "
                       r"line 5 .* rows are 1 d apart"):  # fmt: skip
        read_metrics_csv(daily.encode(), metrics=METRICS, source="m.csv")
