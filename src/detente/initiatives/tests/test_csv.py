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
         "m.csv, record line 2, field 'login_success_rate': no value (a gap); leave the row out "
         "instead"),
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
