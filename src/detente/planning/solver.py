"""Assign work items to window occurrences (pure: numbers in, assignment out).

Cost of doing item i in occurrence o (times in days from the plan's start)::

    c(i, o) = w_i × (end_o + L × max(0, end_o − deadline_i))

an item left unplanned counts as done at ``H + U`` (horizon plus ``unplanned_extra_days``) with the
same formula. ``w × end`` is the item's weighted exposure-days; ``L`` (``late_factor``) makes each
day past a deadline weigh L times more, so the planner meets deadlines before it shaves exposure.

Capacity: an occurrence counted in slots takes one item per slot; one counted in engineer-hours
takes items while their efforts fit. An item only goes into occurrences of its own service that
start no earlier than its ``not_before``.

Two methods:

- ``exact``: OR-Tools CP-SAT, one boolean per eligible (item, occurrence) pair, at most one per
  item, a knapsack constraint per occurrence; costs scaled to integers (×100). Optimal when the
  solver proves it within its time limit; otherwise its best plan, marked not optimal.
- ``greedy``: per service, walk the occurrences in time order and fill each from the items
  waiting for it, ranked by one of three rules — ``delay`` (what waiting for the next occurrence
  would add to the item's cost, per unit of capacity), ``density`` (weight per unit of capacity,
  ties by earliest deadline), ``deadline`` (earliest deadline first, ties by density) — then a
  local search (moves into spare room, swaps, and pushing an item to its next place with room)
  until no move lowers the cost or its time is up. The best of the three is kept and refined by
  seeded ruin-and-recreate rounds while time is left.
"""

from __future__ import annotations

import importlib.util
import time
from collections import defaultdict
from dataclasses import dataclass

SCALE = 100  # integer costs for CP-SAT


@dataclass(frozen=True, slots=True)
class Job:
    group: int  # the service
    effort: float  # engineer-hours
    weight: float
    deadline: float  # days from the plan's start
    not_before: float = 0.0


@dataclass(frozen=True, slots=True)
class Slot:
    group: int
    start: float  # days from the plan's start
    end: float
    capacity: float
    in_slots: bool


@dataclass(frozen=True, slots=True)
class Problem:
    jobs: list[Job]
    slots: list[Slot]
    horizon: float
    late_factor: float = 10.0
    unplanned_extra: float = 30.0

    def load(self, j: int, s: int) -> float:
        return 1.0 if self.slots[s].in_slots else self.jobs[j].effort

    def done_cost(self, j: int, end: float) -> float:
        job = self.jobs[j]
        return job.weight * (end + self.late_factor * max(0.0, end - job.deadline))

    def cost(self, j: int, s: int | None) -> float:
        end = self.horizon + self.unplanned_extra if s is None else self.slots[s].end
        return self.done_cost(j, end)

    def int_cost(self, j: int, s: int | None) -> int:
        return round(self.cost(j, s) * SCALE)

    def eligible(self) -> list[list[int]]:
        """Per job, the occurrences it may go into (own service, not before, big enough)."""
        by_group: dict[int, list[int]] = defaultdict(list)
        for s, slot in enumerate(self.slots):
            by_group[slot.group].append(s)
        for members in by_group.values():
            members.sort(key=lambda s: (self.slots[s].end, s))
        result = []
        for j, job in enumerate(self.jobs):
            result.append(
                [
                    s
                    for s in by_group.get(job.group, ())
                    if self.slots[s].start >= job.not_before
                    and self.load(j, s) <= self.slots[s].capacity + 1e-9
                ]
            )
        return result


@dataclass(frozen=True, slots=True)
class Solution:
    assignment: list[int | None]
    method: str
    optimal: bool
    objective: float
    seconds: float


def objective(problem: Problem, assignment: list[int | None]) -> float:
    return sum(problem.cost(j, s) for j, s in enumerate(assignment))


def int_objective(problem: Problem, assignment: list[int | None]) -> int:
    return sum(problem.int_cost(j, s) for j, s in enumerate(assignment))


def feasible(problem: Problem, assignment: list[int | None]) -> bool:
    used: dict[int, float] = defaultdict(float)
    eligible = problem.eligible()
    for j, s in enumerate(assignment):
        if s is None:
            continue
        if s not in eligible[j]:
            return False
        used[s] += problem.load(j, s)
    return all(used[s] <= problem.slots[s].capacity + 1e-9 for s in used)


# ------------------------------------------------------------------------------ greedy


RULES = ("delay", "density", "deadline")


def greedy(problem: Problem, *, improve_seconds: float = 2.0, seed: int = 0) -> Solution:
    """The best of the chronological fill under each ranking rule, each locally improved, then
    ruin-and-recreate rounds while time is left (stops after ``STALL`` rounds without gain)."""
    began = time.perf_counter()
    until = began + improve_seconds
    best: list[int | None] | None = None
    best_cost = 0.0
    share = improve_seconds / (len(RULES) + 1)
    took = 0.0
    for number, rule in enumerate(RULES):
        # Another fill only when it is likely to finish within the budget.
        if number and time.perf_counter() + took > until:
            break
        fill_began = time.perf_counter()
        found = _fill(problem, rule=rule, improve_until=time.perf_counter() + share)
        took = time.perf_counter() - fill_began
        found_cost = objective(problem, found)
        if best is None or found_cost < best_cost - 1e-9:
            best, best_cost = found, found_cost
    assert best is not None
    best, best_cost = _ruin_and_recreate(problem, best, best_cost, until=until, seed=seed)
    return Solution(
        assignment=best,
        method="greedy",
        optimal=False,
        objective=best_cost,
        seconds=time.perf_counter() - began,
    )


STALL = 150  # ruin-and-recreate rounds without a gain before the greedy stops


def _state(
    problem: Problem, assignment: list[int | None]
) -> tuple[list[float], dict[int, list[int]], dict[int, list[int]]]:
    slots = problem.slots
    remaining = [slot.capacity for slot in slots]
    contents: dict[int, list[int]] = defaultdict(list)
    by_group: dict[int, list[int]] = defaultdict(list)
    for s, slot in enumerate(slots):
        by_group[slot.group].append(s)
    for members in by_group.values():
        members.sort(key=lambda s: (slots[s].end, s))
    for j, placed in enumerate(assignment):
        if placed is not None:
            remaining[placed] -= problem.load(j, placed)
            contents[placed].append(j)
    return remaining, contents, by_group


def _ruin_and_recreate(
    problem: Problem,
    start: list[int | None],
    start_cost: float,
    *,
    until: float,
    seed: int,
) -> tuple[list[int | None], float]:
    """Take a few items of one service out (those around a random occurrence), put them back
    heaviest first into the cheapest occurrence with room, improve locally; keep what is better."""
    import random

    jobs = problem.jobs
    rng = random.Random(seed)  # noqa: S311 - a search heuristic, seeded for repeatable plans
    best, best_cost = list(start), start_cost
    groups = sorted({job.group for job in jobs})
    stall = 0
    while stall < STALL and time.perf_counter() < until and groups:
        candidate = list(best)
        remaining, contents, by_group = _state(problem, candidate)
        group = rng.choice(groups)
        members = [j for j in range(len(jobs)) if jobs[j].group == group]
        if group not in by_group or len(members) < 2:
            stall += 1
            continue
        pivot = rng.choice(by_group[group])
        size = rng.randint(2, max(2, min(12, len(members) // 3)))
        near = sorted(
            members,
            key=lambda j: abs(
                (problem.slots[candidate[j]].end if candidate[j] is not None else 1e9)  # type: ignore[index]
                - problem.slots[pivot].end
            ),
        )[:size]
        for j in near:
            s = candidate[j]
            if s is not None:
                contents[s].remove(j)
                remaining[s] += problem.load(j, s)
                candidate[j] = None
        for j in sorted(near, key=lambda j: (-jobs[j].weight * (1 + rng.random()), j)):
            for s in by_group[group]:
                if problem.slots[s].start < jobs[j].not_before:
                    continue
                if problem.load(j, s) <= remaining[s] + 1e-9:
                    remaining[s] -= problem.load(j, s)
                    contents[s].append(j)
                    candidate[j] = s
                    break
        _improve(problem, candidate, remaining, contents, by_group, deadline=until)
        cost = objective(problem, candidate)
        if cost < best_cost - 1e-9:
            best, best_cost, stall = candidate, cost, 0
        else:
            stall += 1
    return best, best_cost


def _fill(problem: Problem, *, rule: str, improve_until: float) -> list[int | None]:
    jobs, slots = problem.jobs, problem.slots
    remaining = [slot.capacity for slot in slots]
    by_group: dict[int, list[int]] = defaultdict(list)
    for s, slot in enumerate(slots):
        by_group[slot.group].append(s)
    for members in by_group.values():
        members.sort(key=lambda s: (slots[s].end, s))
    waiting: dict[int, list[int]] = defaultdict(list)
    for j in sorted(range(len(jobs)), key=lambda j: (jobs[j].not_before, j)):
        waiting[jobs[j].group].append(j)
    assignment: list[int | None] = [None] * len(jobs)
    contents: dict[int, list[int]] = defaultdict(list)
    never = problem.horizon + problem.unplanned_extra
    late_factor = problem.late_factor
    for group, members in by_group.items():
        queue = waiting.get(group, [])
        pool: list[int] = []
        taken = 0
        for position, s in enumerate(members):
            slot = slots[s]
            while taken < len(queue) and jobs[queue[taken]].not_before <= slot.start:
                pool.append(queue[taken])
                taken += 1
            if not pool:
                continue
            later = slots[members[position + 1]].end if position + 1 < len(members) else never
            # What waiting for the next occurrence would cost, per unit of capacity used.
            per = (lambda j: 1.0) if slot.in_slots else (lambda j: max(jobs[j].effort, 1e-6))
            if rule == "delay":

                def delay(
                    j: int, end: float = slot.end, later: float = later, unit: bool = slot.in_slots
                ) -> tuple[float, float, int]:
                    job = jobs[j]
                    d = job.deadline
                    lateness = max(0.0, later - d) - max(0.0, end - d)
                    size = 1.0 if unit else max(job.effort, 1e-6)
                    return (-job.weight * (later - end + late_factor * lateness) / size, d, j)

                ranked = sorted(pool, key=delay)
            elif rule == "density":
                ranked = sorted(pool, key=lambda j: (-jobs[j].weight / per(j), jobs[j].deadline, j))
            else:
                ranked = sorted(pool, key=lambda j: (jobs[j].deadline, -jobs[j].weight / per(j), j))
            placed = set()
            for j in ranked:
                if remaining[s] < 1e-9:
                    break
                load = 1.0 if slot.in_slots else jobs[j].effort
                if load <= remaining[s] + 1e-9:
                    remaining[s] -= load
                    assignment[j] = s
                    contents[s].append(j)
                    placed.add(j)
            if placed:
                pool = [j for j in pool if j not in placed]
    _improve(problem, assignment, remaining, contents, by_group, deadline=improve_until)
    return assignment


def _improve(  # noqa: C901, PLR0912 - the local search's moves in one loop; split pending
    problem: Problem,
    assignment: list[int | None],
    remaining: list[float],
    contents: dict[int, list[int]],
    by_group: dict[int, list[int]],
    *,
    deadline: float,
) -> None:
    """Local search: move an item to an occurrence with room, or swap two items (one may be
    unplanned), whenever that lowers the total cost; passes repeat until none helps or time is up.
    Late and unplanned items, then the heaviest, are looked at first."""
    jobs, slots = problem.jobs, problem.slots
    cost = problem.cost
    load = problem.load

    def swap_fits(j: int, s: int, k: int, cur: int | None) -> bool:
        if remaining[s] + load(k, s) + 1e-9 < load(j, s):
            return False
        if cur is None:
            return True
        if slots[cur].start < jobs[k].not_before:
            return False
        return remaining[cur] + load(j, cur) + 1e-9 >= load(k, cur)

    improved = True
    while improved:
        improved = False
        order = sorted(
            (j for j in range(len(jobs)) if jobs[j].group in by_group),
            key=lambda j: (
                not (assignment[j] is None or slots[assignment[j]].end > jobs[j].deadline),  # type: ignore[index]
                -jobs[j].weight,
            ),
        )
        for j in order:
            if time.perf_counter() > deadline:
                return
            cur = assignment[j]
            base_j = cost(j, cur)
            best: tuple[float, int, int | None, int | None] | None = None
            for s in by_group[jobs[j].group]:
                if s == cur or slots[s].start < jobs[j].not_before:
                    continue
                if load(j, s) > slots[s].capacity + 1e-9:
                    continue
                gain_j = base_j - cost(j, s)
                if load(j, s) <= remaining[s] + 1e-9:
                    if gain_j > 1e-9 and (best is None or gain_j > best[0]):
                        best = (gain_j, s, None, None)
                    continue
                for k in contents[s]:
                    if remaining[s] + load(k, s) + 1e-9 < load(j, s):
                        continue
                    # k goes where j was (a swap), or to the cheapest other place with room.
                    target: int | None = cur if swap_fits(j, s, k, cur) else -1
                    for t in by_group[jobs[k].group]:
                        if t in (s, cur) or slots[t].start < jobs[k].not_before:
                            continue
                        if load(k, t) <= remaining[t] + 1e-9:
                            if target == -1 or cost(k, t) < cost(k, target):
                                target = t
                            break  # sorted by end: the first with room is the cheapest
                    if target == -1:
                        continue
                    delta = gain_j + cost(k, s) - cost(k, target)
                    if delta > 1e-9 and (best is None or delta > best[0]):
                        best = (delta, s, k, target)
            if best is None:
                continue
            _, into, pushed, destination = best
            if cur is not None:
                contents[cur].remove(j)
                remaining[cur] += load(j, cur)
            if pushed is not None:
                contents[into].remove(pushed)
                remaining[into] += load(pushed, into)
                assignment[pushed] = destination
                if destination is not None:
                    remaining[destination] -= load(pushed, destination)
                    contents[destination].append(pushed)
            remaining[into] -= load(j, into)
            contents[into].append(j)
            assignment[j] = into
            improved = True


# ------------------------------------------------------------------------------ exact


def exact_available() -> bool:
    """Whether OR-Tools is installed (the optional extra ``detente[exact]``); without it every
    plan is the greedy's (its gap to the optimum: docs/planning.md, "Measured")."""
    return importlib.util.find_spec("ortools") is not None


def exact(
    problem: Problem,
    *,
    seconds: float = 10.0,
    workers: int = 2,
    hint: list[int | None] | None = None,
) -> Solution:
    """CP-SAT: optimal when proven within ``seconds``; ``workers`` at most 2 on shared machines."""
    from ortools.sat.python import cp_model

    began = time.perf_counter()
    eligible = problem.eligible()
    model = cp_model.CpModel()
    chosen: list[dict[int, cp_model.IntVar]] = []
    per_slot: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    terms = []
    constant = 0
    for j, options in enumerate(eligible):
        unplanned = problem.int_cost(j, None)
        constant += unplanned
        variables: dict[int, cp_model.IntVar] = {}
        for s in options:
            var = model.new_bool_var(f"x{j}_{s}")
            variables[s] = var
            per_slot[s].append((round(problem.load(j, s) * SCALE), var))
            terms.append((problem.int_cost(j, s) - unplanned) * var)
        if len(variables) > 1:
            model.add_at_most_one(variables.values())
        chosen.append(variables)
    for s, loads in per_slot.items():
        capacity = int(problem.slots[s].capacity * SCALE + 1e-6)
        if sum(load for load, _ in loads) > capacity:
            model.add(sum(load * var for load, var in loads) <= capacity)
    model.minimize(sum(terms) + constant)
    if hint is not None:
        for j, variables in enumerate(chosen):
            for s, var in variables.items():
                model.add_hint(var, hint[j] == s)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = max(1, min(workers, 2))
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        fallback = greedy(problem)
        return Solution(
            assignment=fallback.assignment, method="greedy", optimal=False,
            objective=fallback.objective, seconds=time.perf_counter() - began,
        )  # fmt: skip
    assignment: list[int | None] = [None] * len(problem.jobs)
    for j, variables in enumerate(chosen):
        for s, var in variables.items():
            if solver.boolean_value(var):
                assignment[j] = s
    return Solution(
        assignment=assignment,
        method="cp-sat",
        optimal=status == cp_model.OPTIMAL,
        objective=objective(problem, assignment),
        seconds=time.perf_counter() - began,
    )


def solve(
    problem: Problem, *, method: str = "auto", max_pairs: int = 40_000, seconds: float = 10.0
) -> Solution:
    """``auto``: CP-SAT (warm-started by the greedy plan) up to ``max_pairs`` eligible pairs when
    OR-Tools is installed, else the greedy plan."""
    if method == "greedy":
        return greedy(problem)
    # An upper bound on the eligible pairs, cheap enough for 20,000 items.
    per_group: dict[int, int] = defaultdict(int)
    for slot in problem.slots:
        per_group[slot.group] += 1
    pairs = sum(per_group.get(job.group, 0) for job in problem.jobs)
    if (method == "exact" or pairs <= max_pairs) and exact_available():
        start = greedy(problem, improve_seconds=min(1.0, seconds / 4))
        found = exact(problem, seconds=seconds, hint=start.assignment)
        return found if found.objective <= start.objective + 1e-6 else start
    return greedy(problem)
