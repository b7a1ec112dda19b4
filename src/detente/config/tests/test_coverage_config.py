"""The coverage settings `./dev test` uses (pyproject.toml [tool.coverage]) measure what runs in
`detente` subprocesses and in forked children that leave with os._exit, not only the test
process: without them the CLI and the parse workers would count as never run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[4]
DETENTE = str(Path(sys.executable).with_name("detente"))

SCRIPT = textwrap.dedent(
    f"""
    import os, subprocess

    from detente.core.errors import InputError

    subprocess.run([{DETENTE!r}, "--help"], check=True, capture_output=True)
    pid = os.fork()
    if pid == 0:
        str(InputError("only in the child", file="f", record="r", field="x"))
        os._exit(0)
    os.waitpid(pid, 0)
    """
)


def test_subprocesses_and_forked_children_are_measured(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    # a clean start even when this test itself runs under `./dev test`'s coverage
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env["COVERAGE_FILE"] = str(tmp_path / "data" / ".coverage")
    (tmp_path / "data").mkdir()
    command = [sys.executable, "-m", "coverage", "run", f"--rcfile={ROOT / 'pyproject.toml'}"]
    subprocess.run([*command, str(script)], cwd=tmp_path, env=env, check=True, timeout=600)
    subprocess.run(
        [sys.executable, "-m", "coverage", "combine", f"--rcfile={ROOT / 'pyproject.toml'}"],
        cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    data = coverage.CoverageData(basename=str(tmp_path / "data" / ".coverage"))
    data.read()
    assert data.has_arcs(), "branch coverage is off"
    measured = {
        Path(name).relative_to(ROOT / "src").as_posix(): name for name in data.measured_files()
    }
    # the subprocess: `detente --help` ran the CLI's entry point
    assert "detente/cli/main.py" in measured, sorted(measured)
    # the forked child: InputError._render's "record" line ran only there
    errors = (ROOT / "src/detente/core/errors.py").read_text().splitlines()
    line = next(n for n, text in enumerate(errors, 1) if 'where.append(f"record' in text)
    assert line in (data.lines(measured["detente/core/errors.py"]) or [])
