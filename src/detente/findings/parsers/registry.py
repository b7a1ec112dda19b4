"""Format registry: detection from content, and the one entry point that runs a parser safely."""

from __future__ import annotations

import importlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import cache
from typing import IO

import msgspec
from defusedxml import DefusedXmlException

from detente.findings.parsers.base import (
    HEAD_BYTES,
    ParsedFinding,
    ParseError,
    Parser,
    pop_notes,
    push_notes,
)

log = logging.getLogger(__name__)

# Module names under detente.findings.parsers; each exposes PARSER. Order breaks detection ties.
_MODULES: tuple[str, ...] = (
    "trivy",
    "grype",
    "sarif",
    "osv",
    "cyclonedx",
    "nessus",
    "tenable_csv",
    "dependency_check",
    "npm_audit",
    "github",
    "snyk",
    "semgrep",
    "bandit",
    "zap",
    "pip_audit",
    "gitleaks",
    "generic",
)


@cache
def _parsers() -> dict[str, Parser]:
    found: dict[str, Parser] = {}
    for module_name in _MODULES:
        qualified = f"detente.findings.parsers.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise
            # test_every_registered_module_loads keeps this from hiding a missing parser
            log.warning("parser module %s is missing", qualified)
            continue
        parsers = getattr(module, "PARSERS", None) or (module.PARSER,)
        for parser in parsers:
            found[parser.name] = parser
    return found


def missing_modules() -> list[str]:
    """Registered parser modules that cannot be imported (must be empty)."""
    _parsers()
    missing = []
    for module_name in _MODULES:
        try:
            importlib.import_module(f"detente.findings.parsers.{module_name}")
        except ModuleNotFoundError:
            missing.append(module_name)
    return missing


def formats() -> dict[str, Parser]:
    """Every registered format by name."""
    return dict(_parsers())


class _Formats:
    def __iter__(self) -> Iterator[str]:
        return iter(_parsers())

    def __contains__(self, name: object) -> bool:
        return name in _parsers()


FORMATS = _Formats()


def detect_format(head: bytes, name: str) -> str:
    """The most likely format of a file from its first bytes and its name.

    An empty file, one of only whitespace and a JSON ``null`` are no report of any format: they
    are refused here (a scanner that crashed or wrote nothing), not read as a clean scan. A
    forced ``--format`` still reads them as that format does."""
    bare = head.removeprefix(b"\xef\xbb\xbf").strip()
    if not bare:
        what = "empty (0 bytes)" if not head else "empty (only whitespace)"
        raise ParseError(f"the file is {what}: no report to import", file=name)
    if bare == b"null":
        raise ParseError("the file holds only JSON null: no report to import", file=name)
    best, best_score = "", 0
    for parser in _parsers().values():
        try:
            score = parser.detect(head, name)
        except Exception:
            log.debug("detector %s failed on %s", parser.name, name, exc_info=True)
            continue
        if score > best_score:
            best, best_score = parser.name, score
    if not best:
        raise ParseError(
            f"format not recognised; name one with --format ({', '.join(sorted(_parsers()))})",
            file=name,
        )
    return best


def parse_stream(
    stream: IO[bytes], name: str, *, fmt: str | None = None, trailer: bool = False
) -> Iterator[ParsedFinding]:
    """Parse ``stream`` (named ``name`` in errors) with ``fmt`` or the detected format.

    Every failure surfaces as a ``ParseError`` naming the file; nothing else escapes.

    With ``trailer`` (the importer's reading), a record that cannot be a finding is skipped
    rather than refusing the file, and what the parse noticed follows the findings as trailer
    items (``base.Notes``): skipped records, emptied placeholders, stripped NULs, and the scopes
    a clean scan covers. Without it (a parser's own tests), any such record refuses the file.
    """
    if fmt is None:
        head = stream.read(HEAD_BYTES)
        stream.seek(0)
        fmt = detect_format(head, name)
    if not trailer:
        yield from _parse(stream, name, fmt)
        return
    notes = push_notes()
    try:
        findings = _parse(stream, name, fmt)
        first = next(findings, None)
        if first is not None:
            yield first
            yield from findings
        else:
            scanner = _parsers()[fmt].scanner
            if not notes.scopes and scanner:
                notes.scopes[(scanner, None, None)] = None
        yield from notes.trailer()
    finally:
        pop_notes(notes)


def _parse(stream: IO[bytes], name: str, fmt: str) -> Iterator[ParsedFinding]:
    parsers = _parsers()
    if fmt not in parsers:
        raise ParseError(f"unknown format {fmt!r}; known: {', '.join(sorted(parsers))}", file=name)
    parser = parsers[fmt]
    try:
        yield from parser.parse(stream, name)
    except ParseError as exc:
        raise exc.with_file(name) from None
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"text is not valid UTF-8 (byte offset {exc.start})", file=name, record="document"
        ) from None
    except RecursionError:
        raise ParseError("document nested too deeply", file=name, record="document") from None
    except DefusedXmlException as exc:
        raise ParseError(
            f"XML refused for safety ({type(exc).__name__})", file=name, record="document"
        ) from None
    except ET.ParseError as exc:
        raise ParseError(f"not well-formed XML ({exc})", file=name, record="document") from None
    except msgspec.DecodeError as exc:
        raise ParseError(
            f"not valid {parser.label} ({exc})", file=name, record="document"
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        log.debug("parser %s failed on %s", parser.name, name, exc_info=True)
        raise ParseError(
            f"not a valid {parser.label} file ({type(exc).__name__}: {exc})",
            file=name,
            record="document",
        ) from None
