"""OR-Tools is an optional extra (``detente[exact]``): without it every plan is the greedy's."""

from __future__ import annotations

import sys

import pytest

from detente.planning.solver import Job, Problem, Slot, exact_available, feasible, solve


def _small() -> Problem:
    return Problem(
        jobs=[Job(group=0, effort=1.0, weight=5.0, deadline=10, not_before=0) for _ in range(4)],
        slots=[Slot(group=0, start=2.0, end=2.25, capacity=2, in_slots=True),
               Slot(group=0, start=9.0, end=9.25, capacity=2, in_slots=True)],
        horizon=30,
    )  # fmt: skip


def test_with_ortools_a_small_plan_is_solved_exactly() -> None:
    assert exact_available()
    found = solve(_small())
    assert (found.method, found.optimal) == ("cp-sat", True)


def test_without_ortools_the_planner_plans_greedily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ortools", None)  # as if the extra were not installed
    assert not exact_available()
    found = solve(_small())
    assert found.method == "greedy"
    assert feasible(_small(), found.assignment)
    assert all(slot is not None for slot in found.assignment)
