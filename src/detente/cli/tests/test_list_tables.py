"""Every list command through the installed ``detente``, on the demo's data, at 100 and 80
columns: no line wider than the terminal, nothing cut with "…", every id and every date of the
shown columns whole on one line; columns left out are named; a list cut at its limit says how many
more and how to page; an unknown filter value exits 2 naming the valid ones (issue 14)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DETENTE = Path(sys.executable).with_name("detente")

LISTS = [
    ("findings", "list", "--limit", "12"),
    ("accept", "list"),
    ("decision", "list"),
    ("incident", "list"),
    ("gate-override", "list"),
    ("plan", "show", "--limit", "20"),
    ("plan", "window", "list"),
    ("api", "list"),
    ("initiative", "list"),
]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _run(home: Path, *args: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DETENTE_"))
    }
    environment |= {
        "DETENTE_DATA_DIR": str(home),
        "DETENTE_SECRET_KEY": "test-only-not-secret",
        "COLUMNS": str(columns),
    }
    return subprocess.run(
        [str(DETENTE), *args], capture_output=True, text=True, env=environment, cwd=home,
        timeout=900, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's organisation, history, incident and story in a data directory of its own."""
    home = tmp_path_factory.mktemp("detente-demo")
    built = _run(home, "demo", "--no-serve")
    assert built.returncode == 0, built.stderr
    return home


def _header(table: str) -> list[str]:
    """The column names of the last table printed (``┃ id ┃ title ┃``)."""
    lines = [line for line in table.splitlines() if line.startswith("┃")]
    names: list[str] = []
    for line in lines[-1:]:
        names = [cell.strip() for cell in line.strip("┃").split("┃")]
    return names


@pytest.mark.parametrize("columns", [100, 80])
@pytest.mark.parametrize("args", LISTS, ids=[" ".join(a[:2]) for a in LISTS])
def test_list_tables_fit_the_terminal_and_never_cut_an_id_or_a_date(
    demo: Path, args: tuple[str, ...], columns: int
) -> None:
    table = _run(demo, *args, columns=columns)
    data = _run(demo, *args, "--format", "json", columns=columns)
    assert table.returncode == 0, table.stderr
    rows: list[dict[str, Any]] = json.loads(data.stdout)
    assert rows, "the demo has rows for every list"

    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "…" not in table.stdout
    shown = _header(table.stdout)
    key = "id" if "id" in rows[0] else "name"
    assert shown[0] == key
    for row in rows:
        # the id (or name) whole in the first cell of a line of its own row
        assert any(re.match(rf"│ {re.escape(str(row[key]))} +│", line) for line in lines), row[key]
        for column in shown:
            value = str(row.get(column) or "")
            if _DATE.match(value):
                assert value[:10] in table.stdout, (column, value)
    left_out = [c for c in rows[0] if c not in shown]
    if left_out and "left out" in table.stderr:
        assert f"to fit {columns} columns" in table.stderr


def test_a_cut_list_says_how_many_more_and_how_to_page(demo: Path) -> None:
    every = json.loads(_run(demo, "accept", "list", "--format", "json").stdout)
    first = _run(demo, "accept", "list", "--limit", "2", "--format", "json")
    assert [r["id"] for r in json.loads(first.stdout)] == [r["id"] for r in every[:2]]
    assert first.stderr == (
        f"{len(every) - 2} more; next page: --offset 2 (--limit up to 100000)\n"
    )
    second = _run(demo, "accept", "list", "--limit", "2", "--offset", "2", "--format", "json")
    assert [r["id"] for r in json.loads(second.stdout)] == [r["id"] for r in every[2:4]]
    last = _run(demo, "accept", "list", "--offset", str(len(every) - 1), "--format", "json")
    assert len(json.loads(last.stdout)) == 1
    assert last.stderr == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("accept", "list", "--status", "nope"),
         "unknown status 'nope'; one of draft, requested, approved, rejected, expired, revoked, "
         "superseded"),
        (("gate-override", "list", "--status", "nope"),
         "unknown status 'nope'; one of pending, confirmed, escalated, rejected"),
        (("findings", "list", "--severity", "urgent"), "unknown severity 'urgent'; one of "),
    ],
    ids=["accept", "gate-override", "findings"],
)  # fmt: skip
def test_unknown_filter_values_exit_2_naming_the_valid_ones(
    demo: Path, args: tuple[str, ...], says: str
) -> None:
    done = _run(demo, *args)
    assert done.returncode == 2
    assert says in done.stderr
    assert len(done.stderr.splitlines()) == 1
