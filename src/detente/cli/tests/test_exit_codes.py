"""The command line's promises, through the installed ``detente`` as a subprocess: usage mistakes
exit 2 with the usage message, environment problems exit 2 with one line naming what to fix, an
import's outcome per file, and exit 3 only for bugs (with where to report them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from detente.cli.main import _classify
from detente.policy.document import PACKS

DETENTE = Path(sys.executable).with_name("detente")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory (SQLite) for the module: the first command migrates it."""
    return tmp_path_factory.mktemp("detente-home")


def detente(
    home: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DETENTE_"))
    }
    environment |= {
        "DETENTE_DATA_DIR": str(home),
        "DETENTE_SECRET_KEY": "test-only-not-secret",
        "COLUMNS": "100",
    }
    environment |= env or {}
    return subprocess.run(
        [str(DETENTE), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=home,
        input=stdin,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "Usage: detente"),
        (("nosuch",), "No such command 'nosuch'"),
        (("import", "--bogus", "x"), "No such option: --bogus"),
        (("import",), "Missing argument"),
        (("findings", "list", "--limit", "abc"), "Invalid value for '--limit'"),
        (("findings",), "Usage: detente findings"),
    ],
    ids=["bare", "unknown-command", "unknown-option", "missing-argument", "bad-value", "no-sub"],
)
def test_every_usage_mistake_exits_2_with_the_usage_message(
    home: Path, args: tuple[str, ...], says: str
) -> None:
    done = detente(home, *args)
    assert done.returncode == 2
    shown = done.stdout + done.stderr
    assert says in shown
    assert "internal error" not in shown
    assert "Traceback" not in shown


def test_an_output_folder_that_does_not_exist_exits_2_naming_it(home: Path) -> None:
    target = home / "missing-folder" / "vex.json"
    done = detente(home, "vex", "export", "--output", str(target))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: no such file or folder: {target}; create the folder or fix the path\n"
    )


def test_a_file_where_a_folder_should_be_exits_2_naming_it(home: Path) -> None:
    (home / "plain-file").write_text("x")
    done = detente(home, "audit", "export", "--output", "plain-file/audit.jsonl")
    assert done.returncode == 2
    assert done.stderr == "error: Not a directory: plain-file/audit.jsonl; give a file path\n"


def test_an_unreachable_database_exits_2_saying_what_to_check(home: Path) -> None:
    done = detente(
        home, "findings", "list", env={"DATABASE_URL": "postgres://nobody@127.0.0.1:9/none"}
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: database unavailable (")
    assert done.stderr.endswith(
        "check DATABASE_URL (or DETENTE_DATA_DIR for SQLite) and that the database server is "
        "running\n"
    )
    assert done.stderr.count("\n") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_permission_denied_exits_2_naming_the_path(home: Path) -> None:
    locked = home / "locked"
    locked.mkdir(mode=0o500, exist_ok=True)
    done = detente(home, "vex", "export", "--output", str(locked / "vex.json"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: permission denied: {locked / 'vex.json'}")


def test_eof_at_a_prompt_and_an_abort_exit_2_with_one_line() -> None:
    for exc in (EOFError(), typer.Abort()):
        code, message = _classify(exc)
        assert code == 2
        assert message == (
            "error: no answer at a prompt (input ended); run the command in a terminal or pass "
            "the value as an option"
        )


@pytest.fixture(scope="module")
def ciso(home: Path) -> str:
    """A CISO in the module's data directory (the first organisation file needs no actor)."""
    (home / "org-eof.yaml").write_text(
        "version: 1\npeople:\n  - {name: Sam Ciso, email: ciso-eof@example.com, role: ciso}\n"
    )
    applied = detente(home, "org", "apply", "org-eof.yaml")
    assert applied.returncode == 0, applied.stderr
    return "ciso-eof@example.com"


@pytest.mark.parametrize("stdin", ["", "\n"], ids=["closed", "empty-line"])
def test_eof_at_a_real_prompt_exits_2_with_one_line(home: Path, ciso: str, stdin: str) -> None:
    # the questionnaire asks item by item on standard input, which ends (closed, or one empty
    # answer that click asks again for)
    done = detente(home, "profile", "take", "--as", ciso, stdin=stdin)

    assert done.returncode == 2
    assert done.stderr == (
        "error: no answer at a prompt (input ended); run the command in a terminal or pass "
        "the value as an option\n"
    )
    assert "(1-5):" in done.stdout  # it did prompt


def test_exit_3_is_kept_for_bugs_and_says_where_to_report_them() -> None:
    code, message = _classify(RuntimeError("boom"))
    assert code == 3
    assert message is not None
    assert message.startswith("error: internal error (RuntimeError: boom); this is a bug in")
    assert "please report it to the Détente issue tracker" in message
    assert "DETENTE_LOG_LEVEL=DEBUG" in message


# ------------------------------------------------------------------ import through the entry point


def test_an_empty_file_is_refused_with_one_line_and_exit_2(home: Path) -> None:
    (home / "empty.json").write_bytes(b"")
    done = detente(home, "import", "empty.json")
    assert done.returncode == 2
    assert done.stderr == "error: empty.json: the file is empty (0 bytes): no report to import\n"


def _messy(home: Path) -> Path:
    path = home / "messy.json"
    path.write_text(
        json.dumps(
            {
                "name": "acme-scanner",
                "title": "Quarterly pentest",
                "findings": [
                    {"title": "A", "severity": "High", "cwe": "N/A"},
                    {"severity": "Low"},
                    {"title": "C", "severity": "Medium"},
                    {"title": "C", "severity": "Medium"},
                ],
            }
        )
    )
    return path


def test_a_messy_report_imports_its_valid_records_and_names_what_it_skipped(home: Path) -> None:
    _messy(home)
    done = detente(home, "import", "messy.json", "--asset", "shop")
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.strip()]
    assert line.startswith(
        "messy.json: ok, generic, 3 parsed, 2 new, 1 merged as duplicates, 0 unchanged, "
        "0 reopened, 0 closed; 1 record skipped: findings[1] (title): required field is "
        "missing; 1 value cleaned: findings[0] (cwe): placeholder 'N/A' emptied ("
    )


def test_strict_refuses_the_messy_report_with_exit_2_and_writes_nothing(home: Path) -> None:
    path = _messy(home)
    path.rename(home / "messy-strict.json")
    done = detente(home, "import", "messy-strict.json", "--asset", "strict", "--strict")
    assert done.returncode == 2
    assert done.stderr == (
        "error: messy-strict.json, record findings[0], field 'cwe': placeholder 'N/A' emptied "
        "(refused by --strict; 2 such in the file)\n"
    )
    listed = detente(home, "findings", "list", "--format", "json", "--status", "any")
    assert all(row["asset"] != "strict" for row in json.loads(listed.stdout))


def test_a_folder_prints_each_files_outcome_and_what_was_committed_before_a_refusal(
    home: Path,
) -> None:
    folder = home / "folder"
    folder.mkdir()
    for name in ("a.json", "b.json"):
        (folder / name).write_text(
            json.dumps({"name": "acme", "findings": [{"title": name, "severity": "Low"}]})
        )
    (folder / "c.json").write_text('{"name": "acme", "findings": [')
    (folder / "d.json").write_text(json.dumps({"name": "acme", "findings": []}))
    done = detente(home, "import", "folder", "--asset", "folder")
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[0].startswith("folder/a.json: ok, generic, 1 parsed, 1 new, ")
    assert lines[1].startswith("folder/b.json: ok, generic, 1 parsed, 1 new, ")
    assert done.stderr.splitlines() == [
        "already committed (2 of 4 files): a.json, b.json",
        done.stderr.splitlines()[1],
    ]
    assert done.stderr.splitlines()[1].startswith("error: folder/c.json, record document: not ")


# ------------------------------------------------------------------ policy show round trip


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_policy_show_output_validates_for_every_pack_at_any_terminal_width(
    home: Path, pack: str
) -> None:
    narrow = {"COLUMNS": "40"}
    assert detente(home, "policy", "apply", "--pack", pack, env=narrow).returncode == 0
    shown = detente(home, "policy", "show", env=narrow)
    assert shown.returncode == 0
    (home / f"{pack}.yaml").write_text(shown.stdout)
    validated = detente(home, "policy", "validate", f"{pack}.yaml", env=narrow)
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.startswith(f"{pack}.yaml: valid (")


# ------------------------------------------------------------------ readable output


def test_filters_with_unknown_values_exit_2_naming_the_valid_ones(home: Path) -> None:
    severity = detente(home, "findings", "list", "--severity", "urgent")
    assert severity.returncode == 2
    assert severity.stderr == (
        "error: field 'severity': unknown severity 'urgent'; one of critical, high, medium, "
        "low, info\n"
    )
    service = detente(home, "findings", "list", "--service", "nope")
    assert service.returncode == 2
    assert service.stderr.startswith("error: field 'service': unknown service 'nope'; one of ")


def test_a_list_cut_at_its_limit_says_how_many_more_and_how_to_page(home: Path) -> None:
    path = home / "many.json"
    path.write_text(
        json.dumps(
            {"name": "acme", "findings": [{"title": f"F{i}", "severity": "Low"} for i in range(5)]}
        )
    )
    assert detente(home, "import", "many.json", "--asset", "many").returncode == 0
    listed = detente(home, "findings", "list", "--status", "any", "--limit", "2")
    assert listed.returncode == 0
    total = json.loads(
        detente(home, "findings", "list", "--status", "any", "--format", "json").stdout
    )
    assert listed.stderr.endswith(
        f"{len(total) - 2} more; next page: --offset 2 (--limit up to 100000)\n"
    )
    shown_ids = [line.split("│")[1].strip() for line in listed.stdout.splitlines() if "│" in line]
    assert shown_ids == [str(row["id"]) for row in total[:2]]


def test_findings_show_is_readable_text_and_tables_fit_100_columns(home: Path) -> None:
    path = home / "one.json"
    path.write_text(
        json.dumps(
            {"name": "acme", "findings": [{"title": "Weak \u001b[31mcipher", "severity": "High",
                                           "cwe": 327, "file_path": "srv/tls.conf", "line": 7}]}
        )
    )  # fmt: skip
    assert detente(home, "import", "one.json", "--asset", "one").returncode == 0
    rows = json.loads(detente(home, "findings", "list", "--format", "json").stdout)
    finding_id = next(row["id"] for row in rows if row["asset"] == "one")
    shown = detente(home, "findings", "show", str(finding_id))
    assert shown.returncode == 0
    text = shown.stdout
    assert "{" not in text  # no Python reprs
    assert "'" not in text
    assert "Weak \\x1b[31mcipher" in text  # control characters stay escaped
    first_seen = next(line for line in text.splitlines() if "first_seen" in line)
    assert first_seen.rstrip().endswith(" UTC")
    assert "." not in first_seen.split("first_seen")[1]  # no microseconds
    listed = detente(home, "findings", "list")
    assert max(len(line.rstrip()) for line in listed.stdout.splitlines()) <= 100
    assert str(finding_id) in listed.stdout
