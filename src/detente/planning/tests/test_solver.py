"""The solvers: CP-SAT is optimal on small instances (checked by brute force); the greedy plan is
feasible and never better than the optimum; capacity is honoured in slots and in hours."""

from __future__ import annotations

import itertools
import random

import pytest

from detente.planning.solver import (
    Job,
    Problem,
    Slot,
    exact,
    feasible,
    greedy,
    int_objective,
    objective,
    solve,
)


def _instance(seed: int, jobs: int = 6, slots: int = 3) -> Problem:
    r = random.Random(seed)
    made = []
    for k in range(slots):
        start = 2 + 7 * k + r.random()
        in_slots = r.random() < 0.5
        made.append(
            Slot(
                group=r.randrange(2), start=start, end=start + 0.25,
                capacity=r.choice([1, 2]) if in_slots else r.choice([2.0, 3.0, 5.0]),
                in_slots=in_slots,
            )
        )  # fmt: skip
    return Problem(
        jobs=[
            Job(
                group=r.randrange(2), effort=r.choice([1.0, 2.0, 4.0]),
                weight=round(r.uniform(0.2, 12), 2), deadline=r.choice([3, 10, 20, 40]),
                not_before=r.choice([0, 0, 0, 8]),
            )
            for _ in range(jobs)
        ],
        slots=made,
        horizon=30,
    )  # fmt: skip


def _brute_force(problem: Problem) -> int:
    options = [[None, *eligible] for eligible in problem.eligible()]
    best = None
    for assignment in itertools.product(*options):
        chosen = list(assignment)
        if feasible(problem, chosen):
            cost = int_objective(problem, chosen)
            best = cost if best is None else min(best, cost)
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(12))
def test_cp_sat_matches_brute_force_on_small_instances(seed: int) -> None:
    problem = _instance(seed)
    found = exact(problem, seconds=10, workers=1)
    assert found.optimal
    assert feasible(problem, found.assignment)
    assert int_objective(problem, found.assignment) == _brute_force(problem)


@pytest.mark.parametrize("seed", range(12))
def test_greedy_is_feasible_and_never_beats_the_optimum(seed: int) -> None:
    problem = _instance(seed, jobs=7)
    found = greedy(problem)
    assert feasible(problem, found.assignment)
    assert int_objective(problem, found.assignment) >= _brute_force(problem)
    assert found.objective == pytest.approx(objective(problem, found.assignment))


def test_capacity_in_slots_takes_one_item_per_slot_whatever_its_effort() -> None:
    problem = Problem(
        jobs=[Job(group=1, effort=8, weight=1, deadline=30) for _ in range(3)],
        slots=[Slot(group=1, start=1, end=1.1, capacity=2, in_slots=True),
               Slot(group=1, start=8, end=8.1, capacity=2, in_slots=True)],
        horizon=30,
    )  # fmt: skip
    for found in (greedy(problem), exact(problem, workers=1)):
        assert sorted(s for s in found.assignment if s is not None) == [0, 0, 1]


def test_capacity_in_hours_fits_efforts_and_leaves_an_item_too_big_unplanned() -> None:
    problem = Problem(
        jobs=[Job(group=1, effort=3, weight=5, deadline=30),
              Job(group=1, effort=2, weight=1, deadline=30),
              Job(group=1, effort=9, weight=50, deadline=30)],
        slots=[Slot(group=1, start=1, end=1.1, capacity=4, in_slots=False)],
        horizon=30,
    )  # fmt: skip
    for found in (greedy(problem), exact(problem, workers=1)):
        assert found.assignment == [0, None, None]


def test_a_tight_deadline_goes_first_even_when_lighter() -> None:
    # One slot a week: the 3-day item must take the first, the 60-day one can wait.
    problem = Problem(
        jobs=[Job(group=1, effort=1, weight=4, deadline=60),
              Job(group=1, effort=1, weight=3, deadline=3)],
        slots=[Slot(group=1, start=1, end=1.1, capacity=1, in_slots=True),
               Slot(group=1, start=8, end=8.1, capacity=1, in_slots=True)],
        horizon=30,
    )  # fmt: skip
    for found in (greedy(problem), exact(problem, workers=1)):
        assert found.assignment == [1, 0]


def test_auto_uses_cp_sat_up_to_the_pair_limit_and_the_greedy_beyond() -> None:
    problem = _instance(3)
    assert solve(problem, max_pairs=10_000, seconds=5).method == "cp-sat"
    assert solve(problem, max_pairs=0).method == "greedy"
