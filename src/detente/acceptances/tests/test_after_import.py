"""Acceptances square the findings they cover after every import, whichever door it came in by."""

from __future__ import annotations

from detente.acceptances.services import reconcile_after_import
from detente.findings.services import _AFTER_IMPORT, after_import


def test_acceptances_are_registered_after_every_import() -> None:
    assert reconcile_after_import in _AFTER_IMPORT
    after_import(reconcile_after_import)  # registering twice keeps one
    assert _AFTER_IMPORT.count(reconcile_after_import) == 1
