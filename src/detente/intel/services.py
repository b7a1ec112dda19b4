"""Loading intelligence feeds into the database: each load is one transaction, recorded."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.bulk import insert_rows
from detente.core.errors import InputError
from detente.intel import feeds
from detente.intel.models import EpssScore, FeedKind, IntelLoad, KevEntry, SsvcRecord

if TYPE_CHECKING:
    from detente.people.models import Person

MAX_FEED_BYTES = 512 * 1024 * 1024


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", file=str(path)) from None
    if size > MAX_FEED_BYTES:
        raise InputError(f"file is larger than the {MAX_FEED_BYTES} byte limit", file=str(path))
    return path.read_bytes()


def intel_load(*, path: Path, actor: Person | None = None) -> IntelLoad:
    """Load one KEV (JSON or CSV), EPSS (CSV or CSV.gz) or Vulnrichment file."""
    data = _read(path)
    name = str(path)
    try:
        kind = feeds.sniff_feed(data, name)
        return _load(kind=kind, data=data, name=name, actor=actor)
    except InputError as exc:
        raise exc.with_file(name) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"text is not valid UTF-8 (byte {exc.start})", file=name) from None


def _load(*, kind: str, data: bytes, name: str, actor: Person | None) -> IntelLoad:
    sha = hashlib.sha256(data).hexdigest()
    now = clock.now()
    if kind in ("kev-json", "kev-csv"):
        catalogue = feeds.read_kev_json(data) if kind == "kev-json" else feeds.read_kev_csv(data)
        with transaction.atomic():
            # The catalogue is complete: a load replaces the previous one.
            KevEntry.objects.all().delete()
            insert_rows(
                KevEntry._meta.db_table,
                (
                    "cve_id",
                    "vendor_project",
                    "product",
                    "vulnerability_name",
                    "date_added",
                    "due_date",
                    "known_ransomware",
                    "required_action",
                    "cwes",
                    "catalog_version",
                ),
                (
                    (
                        e.cve_id,
                        e.vendor_project,
                        e.product,
                        e.vulnerability_name,
                        e.date_added,
                        e.due_date,
                        e.known_ransomware,
                        e.required_action,
                        json.dumps(list(e.cwes)),
                        catalogue.version,
                    )
                    for e in {e.cve_id: e for e in catalogue.entries}.values()
                ),
            )
            return _record(
                FeedKind.KEV,
                name,
                sha,
                catalogue.version,
                catalogue.released,
                len(catalogue.entries),
                now,
                actor,
            )
    if kind == "epss":
        epss = feeds.read_epss_csv(data)
        with transaction.atomic():
            cves = [r.cve_id for r in epss.rows]
            # Replace the scores this file carries; keep the others (a partial file updates).
            for start in range(0, len(cves), 900):
                EpssScore.objects.filter(cve_id__in=cves[start : start + 900]).delete()
            insert_rows(
                EpssScore._meta.db_table,
                ("cve_id", "epss", "percentile", "model_version", "score_date"),
                (
                    (r.cve_id, r.epss, r.percentile, epss.model_version, epss.score_date)
                    for r in {r.cve_id: r for r in epss.rows}.values()
                ),
            )
            return _record(
                FeedKind.EPSS,
                name,
                sha,
                epss.model_version,
                epss.score_date,
                len(epss.rows),
                now,
                actor,
            )
    decisions = feeds.read_vulnrichment(data)
    with transaction.atomic():
        for d in decisions:
            SsvcRecord.objects.update_or_create(
                cve_id=d.cve_id,
                defaults={
                    "exploitation": d.exploitation,
                    "automatable": d.automatable,
                    "technical_impact": d.technical_impact,
                    "source": d.source,
                    "assessed_at": d.assessed_at,
                },
            )
        return _record(FeedKind.VULNRICHMENT, name, sha, "", None, len(decisions), now, actor)


def _record(
    kind: FeedKind,
    name: str,
    sha: str,
    version: str,
    feed_date: dt.datetime | None,
    records: int,
    now: dt.datetime,
    actor: Person | None,
) -> IntelLoad:
    load = IntelLoad.objects.create(
        kind=kind,
        source=name,
        sha256=sha,
        version=version,
        feed_date=feed_date,
        records=records,
        loaded_at=now,
    )
    audit_record(
        actor=actor,
        verb="intel.loaded",
        subject_type="intel_load",
        subject_id=load.pk,
        after={"kind": kind.value, "source": name, "version": version, "records": records},
    )
    return load
