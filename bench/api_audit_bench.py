"""API audit: speed on the sample corpus, and precision/recall per rule on the vulnerable APIs.

    python bench/api_audit_bench.py [SAMPLES]     (default ../shared/samples)

Prints the time to load and audit the largest spec (median of 3) and the whole folder, then a
Markdown table of precision and recall per rule against ``EXPECTED``: the vulnerabilities that
crAPI, VAmPI and dvws-node document and that a spec can show, each mapped by us to the rule that
should report it and to the place (a JSON-pointer fragment). Figures go in docs/api-register.md.
No database: the audit is pure.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from detente.api_register.rules import RULES, Result, audit_spec
from detente.api_register.spec import load_spec
from detente.api_register.tests.test_recall import EXPECTED, VULNERABLE, matches


def _timed(path: Path) -> float:
    started = time.perf_counter()
    audit_spec(load_spec(path.read_bytes(), name=path.name))
    return time.perf_counter() - started


def speed(folder: Path) -> None:
    specs = sorted(p for p in folder.iterdir() if p.name != "manifest.json")
    largest = max(specs, key=lambda p: p.stat().st_size)
    runs = [_timed(largest) for _ in range(3)]
    each = ", ".join(f"{r:.2f}" for r in runs)
    size = largest.stat().st_size
    print(
        f"largest: {largest.name} ({size:,} bytes): "
        f"median {statistics.median(runs):.2f} s of {each}"
    )
    started = time.perf_counter()
    results = 0
    for path in specs:
        results += len(audit_spec(load_spec(path.read_bytes(), name=path.name)))
    print(f"folder: {len(specs)} specs, {results} results in {time.perf_counter() - started:.2f} s")


def accuracy(folder: Path) -> None:
    hits: dict[str, list[tuple[str, Result]]] = defaultdict(list)
    for name in VULNERABLE:
        for result in audit_spec(load_spec((folder / name).read_bytes(), name=name)):
            hits[result.rule.id].append((name, result))
    expected: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for spec, label, rule_id, fragment in EXPECTED:
        expected[rule_id].append((spec, label, fragment))

    def hit(found: tuple[str, Result], item: tuple[str, str, str]) -> bool:
        return matches(found[1], item[0], found[0], item[2])

    print("| rule | results | documented | found | precision | recall | missed |")
    print("|---|---|---|---|---|---|---|")
    for rule in RULES:
        got, want = hits.get(rule.id, []), expected.get(rule.id, [])
        if not got and not want:
            continue
        true = sum(any(hit(h, item) for item in want) for h in got)
        found = [item for item in want if any(hit(h, item) for h in got)]
        # precision only where the projects document something for the rule: a result they do not
        # document is not shown to be false
        precision = f"{true / len(got):.0%}" if got and want else "—"
        recall = f"{len(found) / len(want):.0%}" if want else "—"
        missed = "; ".join(item[1] for item in want if item not in found)
        print(f"| {rule.id} | {len(got)} | {len(want)} | {len(found)} | {precision} | {recall} | "
              f"{missed or '—'} |")  # fmt: skip


def main() -> None:
    samples = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/samples")
    folder = samples / "openapi"
    speed(folder)
    accuracy(folder)


if __name__ == "__main__":
    main()
