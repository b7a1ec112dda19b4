"""The importer's row layout and length limits come from the model, on the new-row and the
refresh path alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import models

from detente.findings import importer
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json

pytestmark = pytest.mark.django_db


def _max(name: str) -> int:
    column = Finding._meta.get_field(name)
    assert isinstance(column, models.Field)
    assert column.max_length is not None
    return column.max_length


def test_the_row_columns_are_the_model_columns() -> None:
    columns = {f.column for f in Finding._meta.concrete_fields}
    assert set(importer.FINDING_COLUMNS) <= columns
    assert set(importer.REFRESH_COLUMNS) <= columns
    assert set(importer.EXISTING_COLUMNS) <= columns
    # what a new row does not carry is written once per import, or by the database
    shared = {"first_seen", "last_seen", "policy_version", "last_import_id"}
    later = {"id", "closed_at", "deadline_basis", "priority", "due"}
    assert columns - set(importer.FINDING_COLUMNS) <= shared | later


def test_over_long_values_are_cut_to_their_column_on_insert_and_refresh(tmp_path: Path) -> None:
    long = "x" * 5000
    first = trivy_vuln("CVE-2024-3000", pkg="p" + long, version="1" + long, fixed="2" + long,
                       title="t" + long)  # fmt: skip
    path = write_json(tmp_path / "a.json", trivy_report([first]))
    (scan,) = scan_import(paths=[path], options=ImportOptions())
    assert scan.new == 1
    stored = Finding.objects.get()
    assert stored.title == ("t" + long)[: _max("title")]
    assert stored.component == ("p" + long)[: _max("component")]
    assert stored.component_version == ("1" + long)[: _max("component_version")]
    assert stored.fixed_in == ("2" + long)[: _max("fixed_in")]

    changed = dict(first, InstalledVersion="3" + long, FixedVersion="4" + long)
    again = write_json(tmp_path / "b.json", trivy_report([changed]))
    (scan,) = scan_import(paths=[again], options=ImportOptions())
    assert (scan.new, scan.refreshed) == (0, 1)
    stored.refresh_from_db()
    assert stored.component_version == ("3" + long)[: _max("component_version")]
    assert stored.fixed_in == ("4" + long)[: _max("fixed_in")]
