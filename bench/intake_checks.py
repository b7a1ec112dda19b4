"""What the intake's whole-document checks cost (docs/importing.md, docs/performance.md):

- the search for a JSON ``\\u0000`` escape (Trivy files read whole; ``read_json``'s documents),
- the duplicate-key search (a second decode with the standard library, documents <= 16 MB),

per MB of a generated Trivy report (bench/generate.py's ~2 KB findings).

    .venv/bin/python bench/intake_checks.py [FINDINGS]      default 5,000 (~10 MB)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

BENCH = Path(__file__).resolve().parent


def _best(run: object, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]  # a zero-argument callable
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    django.setup()
    from detente.findings.parsers.base import note_duplicate_keys, pop_notes, push_notes

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.json"
        subprocess.run(
            [sys.executable, str(BENCH / "generate.py"), "large", str(count), str(path)],
            check=True,
        )
        data = path.read_bytes()
    megabytes = len(data) / 2**20
    search = _best(lambda: b"\\u0000" in data)
    notes = push_notes()
    try:
        duplicates = _best(lambda: note_duplicate_keys(data), repeat=3)
    finally:
        pop_notes(notes)
    print(f"{count} findings, {megabytes:.1f} MB")
    print(f"NUL escape search: {search * 1000 / megabytes:.2f} ms per MB")
    print(f"duplicate-key search: {duplicates * 1000 / megabytes:.1f} ms per MB")


if __name__ == "__main__":
    main()
