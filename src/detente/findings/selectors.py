"""Reading findings: what matters first, with filters."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet

from detente.core import clock
from detente.core.errors import InputError, NotFound
from detente.findings.models import NO_DEADLINE, Finding, Status, Vulnerability
from detente.people.models import Person

OPEN_LIKE = (Status.OPEN,)
PAGE_KEY = ("priority", "due", "id")


@dataclass(frozen=True)
class FindingFilter:
    overdue: bool = False
    exploited: bool = False
    exposed: bool = False
    service: str | None = None
    status: str | None = "open"
    severity: str | None = None
    scanner: str | None = None
    cve: str | None = None


def visible_findings(person: Person | None) -> QuerySet[Finding]:
    """What ``person`` may see: service owners see their own services' findings; every other
    role (auditors included) sees all. ``None`` is the system (CLI without --as)."""
    qs = Finding.objects.all()
    if person is not None and person.owner_scoped:
        qs = qs.filter(asset__service__owner=person)
    return qs


def findings_query(f: FindingFilter, person: Person | None = None) -> QuerySet[Finding]:
    """Findings in priority order: exploited and exposed first, then by deadline and EPSS."""
    qs = visible_findings(person).select_related("asset", "asset__service")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.overdue:
        qs = qs.filter(deadline__lt=clock.now())
    # KEV and exposure through the stored priority (0 both, 1 KEV, 2 exposed): the same rows,
    # and a condition on the list index rather than on columns the planner cannot see into.
    if f.exploited:
        qs = qs.filter(priority__in=(0, 1))
    if f.exposed:
        qs = qs.filter(priority__in=(0, 2))
    if f.service:
        qs = qs.filter(Q(asset__service__slug=f.service) | Q(asset__service__name=f.service))
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.scanner:
        qs = qs.filter(scanner=f.scanner)
    if f.cve:
        qs = qs.filter(cve=f.cve.upper())
    # priority: KEV and exposed first; due: the deadline, "none" last (see Finding.priority).
    return qs.order_by("priority", "due", F("epss").desc(nulls_last=True), "id")


def findings_summary() -> dict[str, int]:
    now = clock.now()
    present = Finding.objects.filter(status=Status.OPEN)
    return {
        "open": present.count(),
        "exploited": present.filter(kev=True).count(),
        "exploited_and_exposed": present.filter(kev=True, exposed=True).count(),
        "overdue": present.filter(deadline__lt=now).count(),
        "needs_analyst": present.filter(needs_analyst=True).count(),
        "accepted": Finding.objects.filter(status=Status.ACCEPTED).count(),
        "fixed": Finding.objects.filter(status=Status.FIXED).count(),
    }


# ---------------------------------------------------------------------- keyset pagination
#
# The list order is the stored (priority, due, id) of a finding (see ``Finding.priority``); the
# index ``finding_priority`` holds it after ``status``, so a page is an index seek, however deep.
# The cursor is the last row's key; the next page is the rows after it, compared as a row value,
# which SQLite (3.15+) and PostgreSQL both answer from the index.


def _encode_cursor(priority: int, deadline: dt.datetime | None, pk: int) -> str:
    key = [priority, (deadline or NO_DEADLINE).isoformat(), pk]  # ``due`` (Finding.due)
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, dt.datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        priority, due, pk = json.loads(base64.urlsafe_b64decode(padded))
        moment = dt.datetime.fromisoformat(due)
        moment = moment.replace(tzinfo=moment.tzinfo or dt.UTC).astimezone(dt.UTC)
        if not (0 <= int(priority) <= 3 and 0 <= int(pk) < 2**63):
            raise ValueError("out of range")  # noqa: TRY301
        return int(priority), moment, int(pk)
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError, binascii.Error):
        raise InputError("not a cursor this API issued", field="cursor") from None


def _page_query(f: FindingFilter, person: Person | None, cursor: str | None) -> QuerySet[Finding]:
    qs = findings_query(f, person).order_by("priority", "due", "id")
    if cursor:
        priority, due, pk = _decode_cursor(cursor)
        table = connection.ops.quote_name(Finding._meta.db_table)
        columns = ", ".join(f"{table}.{connection.ops.quote_name(c)}" for c in PAGE_KEY)
        stored_due = connection.ops.adapt_datetimefield_value(due)
        after = f"({columns}) > (%s, %s, %s)"  # names are ours, values are parameters
        qs = qs.extra(where=[after], params=[priority, stored_due, pk])  # noqa: S610
    return qs


def findings_page(
    f: FindingFilter, person: Person | None, *, cursor: str | None, limit: int
) -> tuple[list[Finding], str | None]:
    """One page in priority order (KEV, exposed, deadline — none last, id), by keyset: the cost
    of a page does not grow with its depth."""
    rows = list(_page_query(f, person, cursor)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, _encode_cursor(last.priority, last.deadline, last.pk)


def findings_page_values(
    f: FindingFilter, person: Person | None, *, cursor: str | None, limit: int, fields: list[str]
) -> tuple[list[dict[str, Any]], str | None]:
    """``findings_page`` as plain dicts of ``fields`` (lookups such as ``asset__identifier``
    allowed): no model instances, for callers that only serialise the page (the API)."""
    # ``due`` is the deadline or NO_DEADLINE: not read back (a datetime costs to load)
    wanted = list(dict.fromkeys([*fields, "priority", "deadline", "id"]))
    rows = list(_page_query(f, person, cursor).values(*wanted)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, _encode_cursor(last["priority"], last["deadline"], last["id"])


def finding_get(pk: int, person: Person | None = None) -> Finding:
    """One finding with its asset, service and deadline reason, if ``person`` may see it."""
    found = (
        visible_findings(person)
        .select_related("asset", "asset__service", "deadline_reason", "last_import")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(f"finding {pk} does not exist")
    return found


def vulnerability_of(finding: Finding) -> Vulnerability | None:
    """The vulnerability record (description, references) behind ``finding``, if known."""
    return Vulnerability.objects.filter(vuln_id=finding.vuln_id).first()
