"""Test-wide fixtures: the clock, the sample folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from detente.core import clock
from detente.findings.tests.parity import SAMPLES


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.set_now(None)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Cached figures are keyed by the audit head, whose numbers a rolled-back test reuses."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _own_audit_witness(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test's rolled-back trail gets its own witness file (the key is shared)."""
    settings.DETENTE_AUDIT_WITNESS = str(tmp_path_factory.mktemp("witness") / "witness.jsonl")


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.exists():
        pytest.fail(f"sample data not found at {SAMPLES}; set DETENTE_SAMPLES")
    return SAMPLES
