"""What the intake's whole-document checks cost (docs/importing.md, docs/performance.md):

- the search for a JSON ``\\u0000`` escape in a file read whole (bytes) and in a mapped one
  (Trivy files >= 64 MB: ``mmap.find``, in a forked searcher beside the frame's decoding),
- the duplicate-key search (a second decode with the standard library, documents <= 16 MB),
- Trivy's own parse, for scale,

per MB of a generated Trivy report (bench/generate.py's ~2 KB findings); then, on the mapped
path, the time to the first finding and to the last with the searcher and without it.

    .venv/bin/python bench/intake_checks.py [FINDINGS]      default 5,000 (~10 MB)
"""

from __future__ import annotations

import io
import mmap
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django

BENCH = Path(__file__).resolve().parent


def _best(run: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _mapped_parse(path: Path) -> tuple[float, float]:
    """Seconds to the first finding and to the last, parsing ``path`` from its mapping."""
    from detente.findings.parsers import trivy

    started = time.perf_counter()
    first = 0.0
    with path.open("rb") as stream:
        for count, _ in enumerate(trivy.parse(stream, path.name)):
            if not count:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started


def _no_search(data: mmap.mmap) -> Callable[[], bool]:
    return lambda: False


def main() -> None:
    django.setup()
    from detente.findings.parsers import trivy
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
        with path.open("rb") as stream:
            mapped = mmap.mmap(stream.fileno(), 0, prot=mmap.PROT_READ)
            mapped_search = _best(lambda: mapped.find(b"\\u0000"))
            mapped.close()
        parse = _best(lambda: sum(1 for _ in trivy.parse(io.BytesIO(data), "r")), repeat=3)
        notes = push_notes()
        try:
            duplicates = _best(lambda: note_duplicate_keys(data), repeat=3)
        finally:
            pop_notes(notes)
        original_min, original_search = trivy.MMAP_MIN_BYTES, trivy._nul_search
        trivy.MMAP_MIN_BYTES = 1
        try:
            with_searcher = min((_mapped_parse(path) for _ in range(3)), key=lambda t: t[1])
            trivy._nul_search = _no_search  # the code before: no search
            without = min((_mapped_parse(path) for _ in range(3)), key=lambda t: t[1])
        finally:
            trivy.MMAP_MIN_BYTES, trivy._nul_search = original_min, original_search
    print(f"{count} findings, {megabytes:.1f} MB")
    print(f"NUL escape search, read whole: {search * 1000 / megabytes:.2f} ms per MB")
    print(f"NUL escape search, mapped: {mapped_search * 1000 / megabytes:.2f} ms per MB")
    print(f"duplicate-key search: {duplicates * 1000 / megabytes:.1f} ms per MB")
    print(f"Trivy parse (read whole): {parse * 1000 / megabytes:.1f} ms per MB")
    print(
        f"mapped parse, first / last finding: with the searcher {with_searcher[0]:.2f} / "
        f"{with_searcher[1]:.2f} s, without {without[0]:.2f} / {without[1]:.2f} s"
    )


if __name__ == "__main__":
    main()
