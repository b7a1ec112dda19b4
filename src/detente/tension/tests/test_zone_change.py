"""Each zone change carries its explanation (``index.explain_change``, pure): which signals moved
it, by how many index points, their evidence records, the triggers that appeared or cleared, and
how hysteresis bore on it. Stored and shown in the API and on pages:
demo/tests/test_zone_changes.py."""

from __future__ import annotations

from typing import Any

from detente.tension.index import explain_change

STEP = 2


def _signal(key: str, points: float, **evidence: list[int]) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "sub_index": "process", "value": points / 10,
            "contribution": points, "evidence": evidence}  # fmt: skip


def _month(
    period: str, zone: str, index: float, signals: list[dict[str, Any]], raw: str | None = None,
    triggers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"period": period, "zone": zone, "raw_zone": raw or zone, "index": index,
            "signals": signals, "triggers": triggers or []}  # fmt: skip


def _explain(history: list[dict[str, Any]], now: dict[str, Any]) -> dict[str, Any] | None:
    return explain_change(
        history, period=now["period"], index=now["index"], zone=now["zone"], raw=now["raw_zone"],
        signals=now["signals"], triggers=now["triggers"], periods_to_step_down=STEP,
    )  # fmt: skip


def test_no_change_no_explanation() -> None:
    march = _month("2026-03", "amber", 40, [_signal("escalations", 20)])
    april = _month("2026-04", "amber", 45, [_signal("escalations", 25)])
    assert _explain([march], april) is None
    assert _explain([], _month("2026-04", "green", 5, [_signal("escalations", 5)])) is None


def test_a_rise_names_the_signals_that_rose_most_with_their_evidence() -> None:
    march = _month("2026-03", "green", 20, [_signal("escalations", 10, decisions=[1]),
                                            _signal("overdue", 10, findings=[7])])  # fmt: skip
    april = _month(
        "2026-04", "amber", 38,
        [_signal("escalations", 25, decisions=[1, 2]), _signal("overdue", 8, findings=[7]),
         _signal("silence", 5, pulses=[3]), _signal("steady", 0.02)],
        triggers=[{"key": "red_line_5", "label": "P8 at 4", "severity": "amber",
                   "evidence": {"pulses": [3]}}],
    )  # fmt: skip
    change = _explain([march], april)
    assert change is not None
    assert (change["from_zone"], change["to_zone"], change["direction"]) == ("green", "amber", "up")
    assert (change["index_before"], change["index_after"], change["index_delta"]) == (20, 38, 18)
    assert [(m["key"], m["before"], m["after"], m["delta"]) for m in change["signals"]] == [
        ("escalations", 10, 25, 15),
        ("silence", 0, 5, 5),
        ("overdue", 10, 8, -2),  # moved against the change: listed last
    ]  # "steady" moved less than MOVED_AT points: not a reason
    assert change["signals"][0]["evidence"] == {"decisions": [1, 2]}
    assert [t["key"] for t in change["triggers_added"]] == ["red_line_5"]
    assert change["triggers_cleared"] == []
    assert change["since"] == "2026-03"
    assert "at once" in change["hysteresis"]


def test_a_first_month_that_opens_amber_is_explained_against_nothing() -> None:
    change = _explain(
        [], _month("2026-01", "amber", 41, [_signal("escalations", 41, decisions=[4])])
    )
    assert change is not None
    assert (change["from_zone"], change["since"], change["index_before"]) == ("green", None, 0)
    assert [(m["key"], m["delta"]) for m in change["signals"]] == [("escalations", 41)]


def test_a_step_down_is_explained_against_the_last_month_that_held_the_zone() -> None:
    """Hysteresis kept red for a month after the raw zone fell: the signals that brought it down
    moved between February (red on its own) and April, not only between March and April."""
    feb = _month("2026-02", "red", 70, [_signal("escalations", 40, decisions=[1]),
                                        _signal("gap", 30, pulses=[2])],
                 triggers=[{"key": "red_line_6", "label": "P9 at 2", "severity": "amber",
                            "evidence": {"pulses": [2]}}])  # fmt: skip
    mar = _month("2026-03", "red", 30, [_signal("escalations", 28, decisions=[1]),
                                        _signal("gap", 2, pulses=[5])], raw="amber")  # fmt: skip
    apr = _month("2026-04", "amber", 27, [_signal("escalations", 27, decisions=[1])])
    change = _explain([feb, mar], apr)
    assert change is not None
    assert (change["from_zone"], change["to_zone"], change["direction"]) == ("red", "amber", "down")
    assert change["since"] == "2026-02"
    assert change["index_before"] == 70
    # the biggest fall first; a signal gone to nothing shows the evidence it had
    assert [(m["key"], m["delta"]) for m in change["signals"]] == [
        ("gap", -30),
        ("escalations", -13),
    ]
    assert change["signals"][0]["evidence"] == {"pulses": [2]}
    assert [t["key"] for t in change["triggers_cleared"]] == ["red_line_6"]
    assert f"after {STEP} month(s)" in change["hysteresis"]
