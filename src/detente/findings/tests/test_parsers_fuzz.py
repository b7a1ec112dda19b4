"""Structure-aware fuzzing of every parser: real sample reports (the seeds) with mutated fields.

A mutation keeps the document's shape and changes what is in it: a number given as a string, a
null, a huge or negative value, a missing key, unicode, a list where an object was, nesting
within limits. Properties, for every registered format:

- nothing escapes but ``ParseError`` (the documented parse error, exit 2 in the CLI);
- a bad record is skipped and named (a trailer item with its record and a message) when the
  importer reads (``trailer=True``);
- every finding holds what its fields declare (types, ranges the database takes), so the import
  that follows cannot fail on it;
- no hang: each example has a deadline (10 s, for seeds under 1 MB).

Bounded in CI (profile ``parsers-ci``: a few examples per format, derandomised); longer on demand
with ``DETENTE_FUZZ=long`` (more examples, every seed under 1 MB, random). docs/testing.md says
how.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.findings.parsers.base import (
    HEAD_BYTES,
    SKIPPED,
    TRAILER,
    ParsedFinding,
    ParseError,
    Severity,
)
from detente.findings.parsers.registry import detect_format, formats, parse_stream
from detente.findings.tests.parity import SAMPLES

LONG = os.environ.get("DETENTE_FUZZ", "") == "long"
settings.register_profile(
    "parsers-ci",
    max_examples=int(os.environ.get("DETENTE_FUZZ_EXAMPLES", "25")),
    derandomize=True,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
settings.register_profile(
    "parsers-long",
    max_examples=int(os.environ.get("DETENTE_FUZZ_EXAMPLES", "2000")),
    derandomize=False,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
PROFILE = settings.get_profile("parsers-long" if LONG else "parsers-ci")
SEED_LIMIT = 2**20 if LONG else 64 * 1024  # bytes; the smaller seeds keep CI quick
SEEDS_PER_FORMAT = 100 if LONG else 3
DB_INT = 2**31 - 1  # the integer columns (line, cwe) on PostgreSQL


@cache
def _seeds() -> dict[str, tuple[Path, ...]]:
    """Sample reports by the format detected from them, smallest first (tiny "no findings" files
    last: they have little to mutate)."""
    found: dict[str, list[Path]] = {name: [] for name in formats()}
    for path in sorted((SAMPLES / "scans").rglob("*")):
        if not path.is_file() or path.name == "manifest.json":
            continue
        size = path.stat().st_size
        if size > SEED_LIMIT:
            continue
        try:
            fmt = detect_format(path.read_bytes()[:HEAD_BYTES], path.name)
        except ParseError:
            continue
        found[fmt].append(path)
    return {
        fmt: tuple(
            sorted(paths, key=lambda p: (p.stat().st_size < 600, p.stat().st_size))[
                :SEEDS_PER_FORMAT
            ]
        )
        for fmt, paths in found.items()
    }


# ---------------------------------------------------------------- the mutations

ODD_TEXT = [
    "", " ", "N/A", "-", "null", "none", "\u0000", "a\u0000b", "\u202e\u200b", "😀" * 3, "9" * 400,
    "x" * 5000, "1.5", "-7", "1e999", "NaN", "CVE-2021-44228", "CWE-79", "CWE-99999999999",
    "../../etc/passwd", "<script>", "Ünïcödé ✓", "CVSS:3.1/AV:N", "cpe:/a:", "cpe:2.3:a",
]  # fmt: skip
ODD_NUMBERS = [0, -1, 2**31, 2**63, -(2**63) - 1, 10**30, -(10**30), 1e308, -1e308, 1e-320, 0.5]


XML_MUTATIONS = ["text", "attribute", "drop-attribute", "drop-child", "repeat", "nest"]
CSV_MUTATIONS = ["cell", "drop-cell", "extra-cell", "drop-row"]


def _odd_scalars(*, xml_safe: bool = False) -> st.SearchStrategy[Any]:
    chars = (
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
        if xml_safe
        else st.characters(codec="utf-8", exclude_categories=["Cs"])
    )
    texts = [t for t in ODD_TEXT if not xml_safe or "\u0000" not in t]
    return st.one_of(
        st.sampled_from(texts),
        st.text(chars, max_size=40),
        st.sampled_from(ODD_NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    )


def _odd_json_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        _odd_scalars(),
        st.sampled_from([[], {}, [None], {"": None}]),
        st.lists(_odd_scalars(), max_size=3),
        st.dictionaries(st.text(max_size=8), _odd_scalars(), max_size=3),
    )


def _json_slots(doc: Any, limit: int = 4000) -> list[tuple[Any, Any]]:
    """(container, key) of every value in the document, breadth first, up to ``limit``."""
    slots: list[tuple[Any, Any]] = []
    queue = [doc]
    while queue and len(slots) < limit:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            slots.append((node, key))
            if isinstance(value, (dict, list)):
                queue.append(value)
    return slots


def _nest(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


def _mutate_json(data: st.DataObject, raw: bytes) -> bytes:
    doc = json.loads(raw)
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        slots = _json_slots(doc)
        if not slots:
            break
        container, key = slots[data.draw(st.integers(0, len(slots) - 1), label="slot")]
        value = container[key]
        kind = data.draw(
            st.sampled_from(["replace", "stringify", "delete", "nest", "wrap", "repeat"]),
            label="kind",
        )
        if kind == "replace":
            container[key] = data.draw(_odd_json_values(), label="value")
        elif kind == "stringify":
            container[key] = json.dumps(value) if not isinstance(value, str) else value * 3
        elif kind == "delete":
            del container[key]
        elif kind == "nest":
            container[key] = _nest(value, data.draw(st.integers(1, 40), label="depth"))
        elif kind == "wrap":
            container[key] = [value] if not isinstance(value, list) else {"items": value}
        elif isinstance(container, list):
            container.insert(key, copy.deepcopy(value))
        else:
            container[key] = [copy.deepcopy(value), copy.deepcopy(value)]
    ascii_only = data.draw(st.booleans(), label="ascii")
    return json.dumps(doc, ensure_ascii=ascii_only).encode()


def _mutate_xml(data: st.DataObject, raw: bytes) -> bytes:
    root = ET.fromstring(raw)
    values = _odd_scalars(xml_safe=True).map(lambda v: "" if v is None else str(v))
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        elements = list(root.iter())[:4000]
        element = elements[data.draw(st.integers(0, len(elements) - 1), label="element")]
        kind = data.draw(
            st.sampled_from(XML_MUTATIONS),
            label="kind",
        )
        children = list(element)
        if kind == "text":
            element.text = data.draw(values, label="text")
        elif kind in ("attribute", "drop-attribute") and element.attrib:
            name = data.draw(st.sampled_from(sorted(element.attrib)), label="attribute")
            if kind == "attribute":
                element.set(name, data.draw(values, label="value"))
            else:
                del element.attrib[name]
        elif kind == "drop-child" and children:
            element.remove(children[data.draw(st.integers(0, len(children) - 1), label="child")])
        elif kind == "repeat" and children:
            element.append(copy.deepcopy(children[0]))
        elif kind == "nest" and children:
            child = children[0]
            element.remove(child)
            outer = ET.SubElement(element, child.tag)
            for _level in range(data.draw(st.integers(1, 30), label="depth")):
                outer = ET.SubElement(outer, child.tag)
            outer.append(child)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _mutate_csv(data: st.DataObject, raw: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    values = _odd_scalars().map(lambda v: "" if v is None else str(v))
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        if not rows:
            break
        row = rows[data.draw(st.integers(0, len(rows) - 1), label="row")]
        kind = data.draw(st.sampled_from(CSV_MUTATIONS), label="kind")
        if kind == "drop-row":
            rows.remove(row)
        elif kind == "extra-cell":
            row.append(data.draw(values, label="value"))
        elif row:
            column = data.draw(st.integers(0, len(row) - 1), label="column")
            if kind == "cell":
                row[column] = data.draw(values, label="value")
            else:
                del row[column]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _mutator(raw: bytes) -> Callable[[st.DataObject, bytes], bytes]:
    first = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first in (b"{", b"["):
        return _mutate_json
    if first == b"<":
        return _mutate_xml
    return _mutate_csv


# ---------------------------------------------------------------- the properties


@dataclass(frozen=True)
class Outcome:
    findings: list[ParsedFinding]
    skipped: list[ParsedFinding]


def _check_finding(finding: ParsedFinding) -> None:
    """What the importer relies on: declared types, integers the database takes, a finite score."""
    try:
        msgspec.json.decode(msgspec.json.encode(finding), type=ParsedFinding)
    except (msgspec.ValidationError, TypeError) as exc:
        pytest.fail(f"finding {finding.record} breaks its declared types: {exc}\n{finding!r}")
    assert isinstance(finding.severity, Severity)
    assert finding.identity
    assert all(isinstance(part, str) for part in finding.identity)
    assert finding.vuln_id.strip(), finding
    for number in (finding.line, finding.cwe, *finding.cwes):
        assert number is None or 0 <= number <= DB_INT, finding
    score = finding.cvss_score
    assert score is None or (math.isfinite(score) and 0 <= score <= 10), finding


def _parse(fmt: str, name: str, body: bytes) -> Outcome | ParseError:
    """Both readings: the importer's (skip and note) and a parser's own (refuse)."""
    try:
        list(parse_stream(io.BytesIO(body), name, fmt=fmt))
    except ParseError as exc:
        refused: ParseError | None = exc
    else:
        refused = None
    if refused is not None:
        assert refused.file == name
    try:
        items = list(parse_stream(io.BytesIO(body), name, fmt=fmt, trailer=True))
    except ParseError as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert refused.file == name
        assert refused.message
        return refused
    findings = [i for i in items if i.vuln_id != TRAILER]
    skipped = [i for i in items if i.vuln_id == TRAILER and i.scanner_severity == SKIPPED]
    return Outcome(findings, skipped)


@pytest.mark.parametrize("fmt", sorted(formats()))
def test_every_format_has_seeds(fmt: str) -> None:
    assert _seeds()[fmt], f"no sample report of format {fmt} under {SAMPLES / 'scans'}"


@pytest.mark.parametrize("fmt", sorted(formats()))
def test_mutated_reports_parse_or_are_refused_cleanly(fmt: str) -> None:
    seeds = _seeds()[fmt]
    if not seeds:
        pytest.fail(f"no seed for {fmt}")

    @PROFILE
    @given(data=st.data())
    def property_(data: st.DataObject) -> None:
        seed = data.draw(st.sampled_from(seeds), label="seed")
        raw = seed.read_bytes()
        body = _mutator(raw)(data, raw)
        outcome = _parse(fmt, seed.name, body)
        if isinstance(outcome, ParseError):
            return
        for finding in outcome.findings:
            _check_finding(finding)
        for item in outcome.skipped:
            assert item.record not in ("", "document"), item
            assert item.title, item

    property_()


def test_seeds_themselves_parse_without_skips() -> None:
    """The unmutated seeds are the baseline: each parses (a few are documented refusals)."""
    parsed = 0
    for fmt, seeds in _seeds().items():
        for seed in seeds:
            outcome = _parse(fmt, seed.name, seed.read_bytes())
            if isinstance(outcome, Outcome):
                parsed += 1
                for finding in outcome.findings:
                    _check_finding(finding)
    assert parsed >= len(_seeds())


# ---------------------------------------------------------------- through the installed CLI

DETENTE = str(Path(sys.executable).with_name("detente"))


def test_cli_never_exits_3_on_mutated_reports(tmp_path: Path) -> None:
    """A handful of mutated reports (one per format family, fixed) through ``detente import``:
    exit 0 (read, bad records noted) or 2 (refused, named); never 3 (an internal error)."""
    bodies: dict[str, bytes] = {}

    @settings(PROFILE, max_examples=1, derandomize=True)
    @given(data=st.data())
    def build(data: st.DataObject) -> None:
        for fmt in ("trivy", "sarif", "nessus", "tenable-csv", "cyclonedx", "generic"):
            seed = _seeds()[fmt][0]
            bodies[f"{fmt}-{seed.name}"] = _mutator(seed.read_bytes())(data, seed.read_bytes())

    build()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DETENTE_DATA_DIR"] = str(tmp_path / "data")
    subprocess.run([DETENTE, "migrate"], env=env, capture_output=True, timeout=300, check=False)
    for name, body in bodies.items():
        report = tmp_path / name
        report.write_bytes(body)
        done = subprocess.run(
            [DETENTE, "import", str(report)],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode in (0, 2), (name, done.returncode, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
