"""The shells (CLI, API, pages) read through the domain's selectors, never the ORM directly, so a
rule such as "what a service owner may see" exists once (issue 21)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]
SHELLS = ("cli", "api", "web")
QUERY = re.compile(r"\.objects\.")


def _queries() -> Counter[str]:
    found: Counter[str] = Counter()
    for shell in SHELLS:
        for path in (SRC / shell).rglob("*.py"):
            if "tests" in path.relative_to(SRC).parts:
                continue
            text = path.read_text(encoding="utf-8")
            hits = len(QUERY.findall(text))
            if hits:
                found[path.relative_to(SRC).as_posix()] = hits
    return found


def test_no_shell_queries_the_orm() -> None:
    offenders = dict(_queries())
    assert offenders == {}, f"use (or add) a selector in the domain app instead: {offenders}"


def test_the_scan_sees_a_direct_query() -> None:
    """The pattern matches the shape it must catch (and not a selector call)."""
    assert QUERY.search("x = Person.objects.filter(pk=1)")
    assert not QUERY.search("x = person_get(1)")
