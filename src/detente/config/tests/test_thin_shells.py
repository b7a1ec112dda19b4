"""The shells (CLI, API, pages) read through the domain's selectors, never the ORM directly, so a
rule such as "what a service owner may see" exists once (issue 21)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]
SHELLS = ("cli", "api", "web")
QUERY = re.compile(r"\.objects\.")

# Pages not moved yet, with the number of direct queries each still has; the count may only fall.
# Remove a line when its file reaches zero.
WEB_NOT_YET = {
    "web/auth.py": 1,
    "web/views_org.py": 5,
    "web/views_meetings.py": 1,
}


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


def test_cli_and_api_never_query_the_orm() -> None:
    offenders = {p: n for p, n in _queries().items() if not p.startswith("web/")}
    assert offenders == {}, f"use (or add) a selector in the domain app instead: {offenders}"


def test_pages_query_the_orm_only_where_not_moved_yet_and_never_more() -> None:
    pages = {p: n for p, n in _queries().items() if p.startswith("web/")}
    grown = {p: n for p, n in pages.items() if n > WEB_NOT_YET.get(p, 0)}
    assert grown == {}, f"use (or add) a selector in the domain app instead: {grown}"


def test_the_scan_sees_a_direct_query(tmp_path: Path) -> None:
    """The pattern matches the shape it must catch (and not a selector call)."""
    assert QUERY.search("x = Person.objects.filter(pk=1)")
    assert not QUERY.search("x = person_get(1)")
