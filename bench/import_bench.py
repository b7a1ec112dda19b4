"""The scanner-import benchmark: the figures in docs/performance.md come from this script.

    .venv/bin/python bench/import_bench.py                      # full size: 1M findings, 2000 x 500
    .venv/bin/python bench/import_bench.py --large 20000 --many 40 500 --db sqlite   # CI smoke

For each database (SQLite always; PostgreSQL when DATABASE_URL or --pg-url is reachable):

1. fresh database (migrated, KEV + EPSS loaded), then ``detente import large.json``;
2. ``detente import large-variant.json`` on that database (5% changed, 5% new, 5% gone);
3. fresh database, ``detente import FOLDER`` of COUNT reports of PER findings;
4. fresh database, ``detente import`` of one PER-finding report: the fixed cost of one import;
5. with ``--distinct``: fresh database, ``detente import distinct.json`` (as many findings as the
   large report, 90% with their own id, title and ~2 KB description: a SAST-like report), then
   the same file again (re-import).

Each measurement is a fresh ``detente`` process. Wall time is measured around it; CPU time and
ru_maxrss (the largest single process: the importer or its parse child) come from ``wait4``;
"tree RSS" is the peak of the summed RSS of the importer and its children, sampled every 20 ms.
Data is generated with bench/generate.py into bench/out/ when missing.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PYTHON = ROOT / ".venv/bin/python"
DETENTE = ROOT / ".venv/bin/detente"
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/test"
BENCH_DB = "detente_bench"


@dataclass
class Result:
    case: str
    db: str
    findings: int
    wall: float
    cpu: float
    maxrss_mb: float
    tree_mb: float
    note: str

    def row(self) -> str:
        rate = self.findings / self.wall if self.wall else 0.0
        return (
            f"| {self.case} | {self.db} | {self.findings:,} | {self.wall:.1f} | {rate:,.0f} | "
            f"{self.cpu:.1f} | {self.maxrss_mb:,.0f} | {self.tree_mb:,.0f} | {self.note} |"
        )


HEADER = (
    "| case | db | findings | wall s | findings/s | CPU s | max RSS MB | tree RSS MB | output |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---|"
)


# ---------------------------------------------------------------- data


def generate(*args: str) -> None:
    subprocess.run([str(PYTHON), str(BENCH / "generate.py"), *args], check=True, cwd=ROOT)


def ensure_data(large: int, many: tuple[int, int], distinct: bool = False) -> dict[str, Path]:
    OUT.mkdir(exist_ok=True)
    paths = {
        "intel": OUT / "intel",
        "large": OUT / f"large-{large}.json",
        "variant": OUT / f"large-{large}-variant.json",
        "many": OUT / f"many-{many[0]}x{many[1]}",
        "distinct": OUT / f"distinct-{large}.json",
    }
    if distinct and not paths["distinct"].exists():
        print(f"generating {paths['distinct'].name} …", flush=True)
        generate("distinct", str(large), str(paths["distinct"]))
    if not (paths["intel"] / "epss.csv").exists():
        generate("intel", str(paths["intel"]))
    if large and not paths["large"].exists():  # also the size of the distinct report
        print(f"generating {paths['large'].name} …", flush=True)
        generate("large", str(large), str(paths["large"]))
    if large and not paths["variant"].exists():
        print(f"generating {paths['variant'].name} …", flush=True)
        generate("large", str(large), str(paths["variant"]), "--variant")
    if many[0] and not (paths["many"] / f"report-{many[0] - 1:05d}.json").exists():
        print(f"generating {paths['many'].name}/ …", flush=True)
        generate("many", str(many[0]), str(many[1]), str(paths["many"]))
    return paths


# ---------------------------------------------------------------- databases


class Database:
    """A fresh, migrated database with intel loaded, made quickly from a template."""

    def __init__(self, kind: str, pg_url: str, intel: Path, work: Path) -> None:
        self.kind = kind
        self.pg_url = pg_url
        self.intel = intel
        self.work = work
        self.template_ready = False

    def env(self, data_dir: Path) -> dict[str, str]:
        env = dict(os.environ, DETENTE_DATA_DIR=str(data_dir), COLUMNS="250")
        env.pop("DATABASE_URL", None)
        if self.kind == "postgres":
            env["DATABASE_URL"] = self.pg_url.rsplit("/", 1)[0] + "/" + BENCH_DB
        return env

    def _psql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(sql)

    def _build_template(self) -> None:
        data_dir = self.work / f"template-{self.kind}"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        if self.kind == "postgres":
            self._psql(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            self._psql(f"DROP DATABASE IF EXISTS {BENCH_DB}_template")
            self._psql(f"CREATE DATABASE {BENCH_DB}")
        env = self.env(data_dir)
        subprocess.run([str(DETENTE), "migrate"], env=env, check=True, capture_output=True)
        intel = [str(self.intel / "kev.json"), str(self.intel / "epss.csv")]
        subprocess.run(
            [str(DETENTE), "intel", "load", *intel], env=env, check=True, capture_output=True
        )
        if self.kind == "postgres":
            self._psql(f"ALTER DATABASE {BENCH_DB} RENAME TO {BENCH_DB}_template")
        self.template_ready = True

    def fresh(self) -> dict[str, str]:
        """Environment for a fresh database copied from the template."""
        if not self.template_ready:
            self._build_template()
        data_dir = self.work / f"run-{self.kind}"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        if self.kind == "postgres":
            self._psql(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            self._psql(f"CREATE DATABASE {BENCH_DB} TEMPLATE {BENCH_DB}_template")
        else:
            shutil.copy(self.work / "template-sqlite/detente.sqlite3", data_dir / "detente.sqlite3")
        # the template's audit trail is signed with its key: the copy needs the same key file
        key = self.work / f"template-{self.kind}" / "audit_key"
        if key.exists():
            shutil.copy2(key, data_dir / "audit_key")
        return self.env(data_dir)

    def drop(self) -> None:
        if self.kind == "postgres" and self.template_ready:
            self._psql(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            self._psql(f"DROP DATABASE IF EXISTS {BENCH_DB}_template")


def postgres_reachable(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means: skip PostgreSQL
        return False


# ---------------------------------------------------------------- measuring


def _tree_rss_kb(pid: int) -> int:
    """RSS of ``pid`` and its children (the parse child), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def measure(case: str, db: str, findings: int, argv: list[str], env: dict[str, str]) -> Result:
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    output = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{case} on {db} failed ({proc.returncode}):\n{output}")
    summary = [
        line for line in output.splitlines() if re.search(r"\d+ (parsed|files)", line)
    ] or output.strip().splitlines()[-1:]
    summary = summary[-1:]  # a folder prints a line per file, then its totals: keep the totals
    note = re.sub(r"\s+", " ", " ".join(summary)).strip()
    note = note.replace("|", "/")
    return Result(
        case=case, db=db, findings=findings, wall=wall, cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024, tree_mb=peak / 1024, note=note,
    )  # fmt: skip


def run(args: argparse.Namespace) -> list[Result]:
    paths = ensure_data(args.large, (args.many[0], args.many[1]), args.distinct)
    if args.db == "both":
        args.db = "sqlite,postgres"
    dbs = []
    if "sqlite" in args.db:
        dbs.append("sqlite")
    if "postgres" in args.db:
        if postgres_reachable(args.pg_url):
            dbs.append("postgres")
        else:
            print(f"PostgreSQL not reachable at {args.pg_url}: skipped", file=sys.stderr)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="detente-bench-") as tmp:
        for kind in dbs:
            database = Database(kind, args.pg_url, paths["intel"], Path(tmp))
            try:
                if args.large and not args.skip_large:
                    env = database.fresh()
                    for case, path in (("large", paths["large"]), ("re-import", paths["variant"])):
                        # the variant drops 5% and adds 5%: as many findings as the original
                        argv = [str(DETENTE), "import", str(path)]
                        result = measure(case, kind, args.large, argv, env)
                        print(result.row(), flush=True)
                        results.append(result)
                if args.distinct:
                    env = database.fresh()
                    argv = [str(DETENTE), "import", str(paths["distinct"])]
                    for case in ("distinct", "distinct again"):
                        result = measure(case, kind, args.large, argv, env)
                        print(result.row(), flush=True)
                        results.append(result)
                if args.many[0]:
                    env = database.fresh()
                    total = args.many[0] * args.many[1]
                    argv = [str(DETENTE), "import", str(paths["many"])]
                    result = measure("many", kind, total, argv, env)
                    print(result.row(), flush=True)
                    results.append(result)
                    env = database.fresh()
                    one = paths["many"] / "report-00000.json"
                    argv = [str(DETENTE), "import", str(one)]
                    result = measure("one small", kind, args.many[1], argv, env)
                    print(result.row(), flush=True)
                    results.append(result)
            finally:
                database.drop()
    return results


def machine() -> str:
    timeit = subprocess.run(
        [str(PYTHON), "-m", "timeit", "sum(range(1000))"],
        check=False,
        capture_output=True,
        text=True,
    ).stdout.strip()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, {mem:.0f} GB RAM, {platform.python_implementation()} "
        f"{platform.python_version()}, timeit sum(range(1000)): {timeit}; load average {load}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", type=int, default=1_000_000, help="findings in the large report")
    parser.add_argument(
        "--many", type=int, nargs=2, default=(2000, 500), metavar=("COUNT", "PER"),
        help="COUNT reports of PER findings imported as one folder",
    )  # fmt: skip
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument(
        "--distinct", action="store_true",
        help="also import a report of --large findings that mostly carry their own texts",
    )  # fmt: skip
    parser.add_argument(
        "--skip-large", action="store_true", help="do not import the large report and its variant"
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("DATABASE_URL", PG_DEFAULT),
        help=f"an existing database to connect through (it creates {BENCH_DB})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    # An installed program has its bytecode; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 (as some sandboxes set it) would compile every module of detente
    # in every measured process (~0.2 s each). compileall writes the caches either way.
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", str(ROOT / "src")], check=True, cwd=ROOT)
    print(machine(), flush=True)
    print(HEADER, flush=True)
    results = run(args)
    print("\n" + machine())
    print(HEADER)
    for result in results:
        print(result.row())


if __name__ == "__main__":
    main()
