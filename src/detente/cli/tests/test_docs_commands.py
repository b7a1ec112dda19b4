"""Executable docs: every command README.md and docs/**/*.md show works as they say.

Given a demo database built once (``detente demo --no-serve``) in a scratch data folder, when each
doc file's commands run in order through the installed ``detente`` (a fresh copy of the demo per
file), then each exits with the code the docs promise (0 unless a ``# exit N`` comment says
otherwise); synopsis lines (``[--opt]``, ``a|b``) name only commands and options that exist.
The convention is in ``doccommands.py`` and docs/reference/executable-docs.md.

SQLite only: the commands' behaviour does not depend on the database (the services' tests run on
both), and one demo build plus ~100 processes is the test's whole cost; twice would double it.

To extend: a new placeholder goes into ``PLACEHOLDERS`` (or ``QUERIES`` when the id depends on
the day's demo), a file a doc names into ``FILES``, a
command that cannot run here into ``SKIP`` with the reason.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import typer

from detente.cli.main import build_app
from detente.cli.tests.doccommands import DocCommand, collect, doc_files

ROOT = Path(__file__).resolve().parents[4]
SAMPLES = Path(os.environ.get("DETENTE_SAMPLES", ROOT.parent / "shared" / "samples")).resolve()
DETENTE = Path(sys.executable).with_name("detente")

# Placeholder words in the docs -> a real demo value (whole arguments only).
PLACEHOLDERS: dict[str, str] = {
    "EMAIL": "it.lead@demo.detente",
    "YYYY-MM": "2026-11",
    "ID": "1",
}

# Placeholder words for ids that depend on the day's demo -> the query that finds the id in the
# scratch database just before the command runs (so after the page's earlier commands): the record
# the page itself created, or a demo row with the property the command needs. Whole arguments only.
QUERIES: dict[str, str] = {
    # the decision record the page recorded (``decision new`` printed it: DR-30 -> 30)
    "NEW_DR": "SELECT max(id) FROM decisions_decisionrecord",
    # the acceptance request the page created (``accept request`` printed it: RA-35 -> 35)
    "NEW_RA": "SELECT max(id) FROM acceptances_riskacceptance",
    # a work item of the current plan that misses its deadline and is not deferred yet
    "MISSED_ITEM": (
        "SELECT i.id FROM planning_planitem i JOIN planning_patchplan p ON p.id = i.plan_id "
        "WHERE p.status = 'current' AND i.miss != '' AND i.acceptance_id IS NULL "
        "ORDER BY i.id LIMIT 1"
    ),
    # a work item of the current plan on the payments-api service
    "PAYMENTS_ITEM": (
        "SELECT i.id FROM planning_planitem i JOIN planning_patchplan p ON p.id = i.plan_id "
        "JOIN inventory_businessservice s ON s.id = i.service_id "
        "WHERE p.status = 'current' AND s.slug = 'payments-api' ORDER BY i.id LIMIT 1"
    ),
}

# File names the docs use -> the real file copied into the scratch folder the commands run in
# (relative to the samples folder, or to the repository when it starts with "repo:"; a name
# ending in .gz is gzipped from its source).
FILES: dict[str, str] = {
    "scans/trivy-shop.json": "scans/trivy/all_statuses.json",
    "sast.sarif": "scans/sarif/codeQL-output.sarif",
    "kev.json": "intel/known_exploited_vulnerabilities_2026-08-07.json",
    "known_exploited_vulnerabilities.json": "intel/known_exploited_vulnerabilities_2026-08-07.json",
    "epss_scores-current.csv.gz": "intel/epss_scores-current_SAMPLE_head_tail.csv",
    "CVE-2021-44228.json": "intel/vulnrichment_CVE-2021-44228_CISA-ADP_excerpt.json",
    "my-policy.yaml": "repo:src/detente/policy/packs/bod_26_04.yaml",
    "mine.yaml": "repo:src/detente/policy/packs/fedramp.yaml",
    "decision.yaml": "repo:docs/reference/decision-record.example.yaml",
}

# Commands that are not run, by their leading words, with the reason. A third element names an
# option whose presence makes the command runnable after all.
SKIP: list[tuple[str, str, str | None]] = [
    ("intel update", "downloads KEV and EPSS from the internet; tests use no network", None),
    ("serve", "serves until stopped; the web and API tests start their own servers", None),
    ("worker", "loops until stopped; `worker --once` is run", "--once"),
    ("account password", "asks for the password twice on a terminal", "--password-stdin"),
    ("account totp", "asks for the code an authenticator app shows", None),
    ("profile take", "asks the questionnaire on a terminal", "--answers"),
    ("pulse answer", "asks the pulse on a terminal", "--answers"),
    ("demo", "the test builds the demo itself, once, with --no-serve", None),
    ("test", "runs the whole CI (this test included)", None),
    ("bench", "benchmarks take minutes and their figures are in docs/performance.md", None),
]

TIMEOUT = 300  # seconds; a hang is a failure, not a stuck CI


def skip_reason(command: DocCommand) -> str | None:
    words = command.words
    for prefix, reason, unless in SKIP:
        if words[: len(prefix.split())] == tuple(prefix.split()) and unless not in words:
            return reason
    return None


def _environment(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DETENTE_", "DATABASE_URL"))}
    env.update(
        DETENTE_DATA_DIR=str(data),
        DETENTE_SECRET_KEY="test-only-not-secret",
        DETENTE_SAMPLES=str(SAMPLES),
        COLUMNS="200",
        PATH=f"{DETENTE.parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("docs-demo") / "data"
    built = subprocess.run(
        [str(DETENTE), "demo", "--no-serve"],
        env=_environment(data),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    return data


# Folders of the repository the docs name by path (``./dev`` runs in the repository folder, so
# ``docs/examples/…`` and ``src/detente/demo/org.yaml`` resolve there), linked into the scratch
# folder; ``../shared/samples/…`` resolves through a link beside it.
REPO_FOLDERS = ("docs", "src")


def _stage_files(workdir: Path) -> None:
    for folder in REPO_FOLDERS:
        (workdir / folder).symlink_to(ROOT / folder, target_is_directory=True)
    shared = workdir.parent / "shared"
    if not shared.exists():
        shared.symlink_to(SAMPLES.parent, target_is_directory=True)
    for name, source in FILES.items():
        origin = ROOT / source[5:] if source.startswith("repo:") else SAMPLES / source
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".gz") and not source.endswith(".gz"):
            target.write_bytes(gzip.compress(origin.read_bytes()))
        else:
            shutil.copyfile(origin, target)


def _queried(word: str, data: Path) -> str:
    """The id ``QUERIES[word]`` finds in the scratch database now."""
    with closing(sqlite3.connect(data / "detente.sqlite3")) as db:
        row = db.execute(QUERIES[word]).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"placeholder {word}: nothing in the demo matches {QUERIES[word]!r}")
    return str(row[0])


def _value(word: str, data: Path) -> str:
    if word in QUERIES:
        return _queried(word, data)
    return PLACEHOLDERS.get(word, word)


def _argv(command: DocCommand, data: Path) -> list[str]:
    return [str(DETENTE), *(_value(word, data) for word in command.words)]


def _run(command: DocCommand, data: Path, workdir: Path) -> str | None:
    """None when the command kept its promise, else what went wrong."""
    env = _environment(data)
    try:
        env.update({k: _value(v, data) for k, v in command.env})
        argv = _argv(command, data)
    except LookupError as exc:
        return f"{command.where}\n  {exc}"
    try:
        done = subprocess.run(
            argv,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{command.where}\n  did not finish in {TIMEOUT} s"
    if done.returncode == command.expect:
        return None
    output = (done.stderr.strip() or done.stdout.strip())[-600:]
    return (
        f"{command.where}\n  exit {done.returncode}, the docs promise {command.expect}\n  {output}"
    )


def _commands_of(path: Path) -> list[DocCommand]:
    relative = str(path.relative_to(ROOT))
    return [c for c in collect(ROOT) if c.file == relative]


def _files() -> Iterator[str]:
    for path in doc_files(ROOT):
        yield str(path.relative_to(ROOT))


def _run_file(doc: str, demo: Path, scratch: Path) -> list[str]:
    """Run one doc file's commands in order on a fresh copy of the demo; what went wrong."""
    data = scratch / "data"
    shutil.copytree(demo, data)
    workdir = scratch / "work"
    workdir.mkdir()
    _stage_files(workdir)
    return [
        failure
        for command in _commands_of(ROOT / doc)
        if not command.synopsis and skip_reason(command) is None
        if (failure := _run(command, data, workdir)) is not None
    ]


@pytest.fixture(scope="session")
def doc_failures(
    request: pytest.FixtureRequest, demo_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[str]]:
    """The selected doc files, run side by side (one worker per core): each file's failures."""
    wanted = sorted(
        {
            str(item.callspec.params["doc"])
            for item in request.session.items
            if isinstance(item, pytest.Function)
            and item.originalname == "test_documented_commands_run"
        }
    )
    scratch = {doc: tmp_path_factory.mktemp("doc") for doc in wanted}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = {doc: pool.submit(_run_file, doc, demo_data, scratch[doc]) for doc in wanted}
        return {doc: run.result() for doc, run in runs.items()}


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="SQLite only (see the module docstring); ./dev test runs it in its SQLite pass",
)
@pytest.mark.parametrize("doc", list(_files()))
def test_documented_commands_run(doc: str, doc_failures: dict[str, list[str]]) -> None:
    # given a fresh copy of the demo database and the files the docs name (doc_failures)
    # when every runnable command of the file runs, in order
    failures = doc_failures[doc]
    # then each exits as the docs say
    assert not failures, "documented commands that do not work:\n" + "\n".join(failures)


def _resolve(root: Any, words: tuple[str, ...]) -> tuple[list[Any], list[str]]:
    """The commands a synopsis names (several for ``a|b``) and the options it uses.

    Typer (0.22+) builds its commands on its own copy of click, hence ``Any``."""
    commands = [root]
    options = [w for w in words if w.lstrip("[").startswith("--")]
    for word in words:
        if word.startswith(("-", "[")):
            break
        groups = [c for c in commands if hasattr(c, "commands")]
        if not groups:
            break
        names = word.split("|")
        found = [g.commands[n] for g in groups for n in names if n in g.commands]
        if not found:
            break
        commands = found
    cleaned = [o.strip("[]").split("=")[0].split("|")[0] for o in options]
    return commands, cleaned


def test_synopses_name_real_commands_and_options() -> None:
    # given the CLI as Typer builds it
    root = typer.main.get_command(build_app())
    problems = []
    for command in collect(ROOT):
        if not command.synopsis:
            continue
        # when a synopsis is resolved against it
        commands, options = _resolve(root, command.words)
        if commands == [root]:
            problems.append(f"{command.where}\n  no such command")
            continue
        known = {
            opt for c in commands for p in c.params for opt in (*p.opts, *p.secondary_opts)
        } | {"--help"}
        # then its command and every option exist
        problems += [
            f"{command.where}\n  no option {option} on {' / '.join(str(c.name) for c in commands)}"
            for option in options
            if option not in known
        ]
    assert not problems, "synopses that do not match the CLI:\n" + "\n".join(problems)


def test_skipped_commands_are_only_those_listed() -> None:
    # given every command in the docs
    commands = collect(ROOT)
    # when the skipped ones are picked out
    skipped = {c.words[0] for c in commands if not c.synopsis and skip_reason(c)}
    # then each is skipped for a listed reason, and the placeholders' files exist
    assert skipped <= {prefix.split()[0] for prefix, _, _ in SKIP}
    missing = [
        name
        for name, source in FILES.items()
        if not (ROOT / source[5:] if source.startswith("repo:") else SAMPLES / source).exists()
    ]
    assert not missing, f"FILES points at files that do not exist: {missing}"
