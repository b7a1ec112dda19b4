"""The generated reference pages match the code, and the decision-record example is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from detente.config import docgen
from detente.decisions.models import DecisionRecord
from detente.decisions.services import decision_create
from detente.people.models import Role
from detente.people.services import person_upsert

ROOT = Path(__file__).resolve().parents[4]


def test_generated_reference_pages_are_current() -> None:
    # given the committed pages under docs/reference/
    # when they are rendered again from the code
    stale = docgen.stale(ROOT)
    # then none differs
    assert not stale, (
        f"stale generated pages: {', '.join(map(str, stale))}; regenerate them with "
        f"`{docgen.COMMAND}` and commit the result"
    )


def test_a_changed_page_is_reported_stale(tmp_path: Path) -> None:
    # given a copy of the reference pages where one was edited by hand
    for path, text in docgen.render(ROOT).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / docgen.EXAMPLE).write_text(
        (ROOT / docgen.EXAMPLE).read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / docgen.REFERENCE / "signals.md").write_text("edited\n", encoding="utf-8")
    # when staleness is checked
    stale = docgen.stale(tmp_path)
    # then exactly that page is named
    assert stale == [docgen.REFERENCE / "signals.md"]


@pytest.mark.django_db
def test_the_decision_record_example_is_a_valid_record() -> None:
    # given the CISO and the documented example file
    ciso = person_upsert(name="CISO", email="ciso@example.org", role=Role.CISO)
    data = yaml.safe_load((ROOT / docgen.EXAMPLE).read_text(encoding="utf-8"))
    # when it is recorded through the service `decision new` calls
    record = decision_create(actor=ciso, **data)
    # then every field landed
    stored = DecisionRecord.objects.get(pk=record.pk)
    assert stored.title == "Log4j on the HR portal during the year-end freeze"
    assert stored.escalation_level == "leaders"
    assert [o["title"] for o in stored.options] == [
        "Emergency change this week",
        "Defer to the January window behind a WAF rule",
    ]
    assert stored.informed == ["ceo@demo.detente", "dpo@demo.detente"]
    assert str(stored.review_date) == "2026-12-20"
