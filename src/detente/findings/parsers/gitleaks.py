"""gitleaks JSON reports, v7 (lower-case keys, ``offender``) and v8 (``RuleID``, ``Secret``).

The secret itself is never kept: not in the title, the description, the identity or anywhere else.
The identity holds a SHA-256 of it instead. The same secret at the same place found again in
other commits is one finding (gitleaks reports it once per commit); the commits are listed in the
description. gitleaks has no severity: every leak is ``high``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from detente.findings.parsers.base import (
    ParsedFinding,
    ParseError,
    Parser,
    Severity,
    as_line,
    as_str,
    expect_dict,
    expect_list,
    read_json,
    skip_record,
)

CWE_HARD_CODED_CREDENTIALS = 798


def detect(head: bytes, name: str) -> int:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.rstrip() == b"null":
        return 10  # gitleaks v8 writes `null` when nothing leaked
    if not stripped.startswith(b"["):
        return 0
    if b'"RuleID"' in head and (b'"Secret"' in head or b'"StartLine"' in head):
        return 95
    if b'"offender"' in head and b'"rule"' in head and b'"commit"' in head:
        return 95
    return 0


@dataclass(slots=True)
class _Leak:
    record: str
    rule: str
    title: str
    file_path: str
    line: int | None
    secret_hash: str
    tags: tuple[str, ...]
    commits: list[str] = field(default_factory=list)


def _read(entry: dict[str, Any], record: str) -> _Leak:
    if "RuleID" in entry or "Secret" in entry or "File" in entry:
        rule = as_str(entry.get("RuleID"))
        title = as_str(entry.get("Description")) or rule
        file_path = entry.get("File")
        line = as_line(entry.get("StartLine"), record=record, field="StartLine")
        secret = entry.get("Secret")
        if secret is None:
            secret = entry.get("Match")
        commit = as_str(entry.get("Commit"))
        raw_tags: Any = entry.get("Tags")
        rule_field, file_field = "RuleID", "File"
    else:
        rule = as_str(entry.get("rule"))
        title = rule
        file_path = entry.get("file")
        line = as_line(entry.get("lineNumber"), record=record, field="lineNumber")
        secret = entry.get("offender")
        commit = as_str(entry.get("commit"))
        raw_tags = entry.get("tags")
        rule_field, file_field = "rule", "file"
    if rule is None or title is None:
        raise ParseError("required field is missing", record=record, field=rule_field)
    if not isinstance(file_path, str) or not file_path.strip():
        raise ParseError("required field is missing", record=record, field=file_field)
    if secret is not None and not isinstance(secret, str):
        raise ParseError("expected a string", record=record, field="Secret/offender")
    if isinstance(raw_tags, str):
        tags = tuple(tag.strip() for tag in raw_tags.split(",") if tag.strip())
    else:
        tags = tuple(str(tag) for tag in expect_list(raw_tags, record=record, field="Tags"))
    leak = _Leak(
        record=record,
        rule=rule,
        title=title,
        file_path=file_path,
        line=line,
        secret_hash=hashlib.sha256((secret or "").encode("utf-8")).hexdigest(),
        tags=tags,
    )
    if commit:
        leak.commits.append(commit)
    return leak


def parse(stream: IO[bytes], name: str) -> Iterator[ParsedFinding]:
    data = read_json(stream)
    if data is None:
        return
    if not isinstance(data, list):
        raise ParseError("expected a list of leaks", record="document")
    entries: list[Any] = data
    leaks: dict[tuple[str, str, str, str], _Leak] = {}
    for index, raw in enumerate(entries):
        try:
            record = f"[{index}]"
            leak = _read(expect_dict(raw, record=record), record)
            key = (
                leak.rule,
                leak.file_path,
                "" if leak.line is None else str(leak.line),
                leak.secret_hash,
            )
            if key in leaks:
                leaks[key].commits.extend(c for c in leak.commits if c not in leaks[key].commits)
            else:
                leaks[key] = leak
        except ParseError as exc:
            skip_record(exc)
    for key, leak in leaks.items():
        try:
            where = leak.file_path if leak.line is None else f"{leak.file_path}:{leak.line}"
            lines = [f"Secret matching rule {leak.rule!r} in {where} (value redacted)."]
            if leak.commits:
                lines.append("Commits: " + ", ".join(leak.commits))
            if leak.tags:
                lines.append("Tags: " + ", ".join(leak.tags))
            yield ParsedFinding(
                scanner="gitleaks",
                vuln_id=leak.rule,
                title=leak.title,
                severity=Severity.HIGH,
                scanner_severity="",
                record=leak.record,
                identity=key,
                file_path=leak.file_path,
                line=leak.line,
                cwe=CWE_HARD_CODED_CREDENTIALS,
                cwes=(CWE_HARD_CODED_CREDENTIALS,),
                description="\n".join(lines),
            )
        except ParseError as exc:
            skip_record(exc)


PARSER = Parser(
    name="gitleaks", label="gitleaks JSON", detect=detect, parse=parse, scanner="gitleaks"
)
