"""The generated reference pages match the code, and the decision-record example is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, Field

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
    examples = [docgen.EXAMPLE, *(Path(spec.example) for spec in docgen.FILE_FORMATS)]
    for example in examples:
        if (ROOT / example).exists():
            (tmp_path / example).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / example).write_bytes((ROOT / example).read_bytes())
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


class Contact(BaseModel):
    """Who to call."""

    email: str = Field(description="Their e-mail.")
    phone: str | None = None


class Roster(BaseModel):
    name: str
    contacts: list[Contact] = []


def test_a_file_format_page_documents_the_schema_and_a_checked_example(tmp_path: Path) -> None:
    # given a pydantic schema and a complete example of its file
    example = tmp_path / "roster.yaml"
    example.write_text("name: on-call\ncontacts:\n  - email: a@example.org\n", encoding="utf-8")
    checked: list[Path] = []
    spec = docgen.FileFormat(
        page="roster.md",
        title="The roster file",
        module=__name__,
        model="Roster",
        example="roster.yaml",
        check=lambda module, path: checked.append(path),
        intro="Who is on call.",
    )
    # when its page is rendered
    page = docgen.file_format_page(tmp_path, spec)
    # then every model is a section with its fields, and the example was checked and shown
    assert page is not None
    assert "## Roster\n" in page
    assert "| `contacts` | list of [Contact](#contact) | `[]` |" in page
    assert "## Contact\n\nWho to call.\n" in page
    assert "| `email` | str | required | Their e-mail. |" in page
    assert "| `phone` | str or null | `null` |  |" in page
    assert page.rstrip().endswith(
        "```yaml\nname: on-call\ncontacts:\n  - email: a@example.org\n```"
    )
    assert checked == [example]


def test_a_file_format_of_an_app_not_merged_yet_is_not_rendered(tmp_path: Path) -> None:
    # given a format whose module does not exist
    spec = docgen.FileFormat(
        page="x.md", title="X", module="detente.not_merged_yet.document", model="X",
        example="x.yaml", check=lambda module, path: None, intro="",
    )  # fmt: skip
    # when its page is rendered, then there is none
    assert docgen.file_format_page(tmp_path, spec) is None


def _signal_row(page: str, key: str) -> list[str]:
    row = next(line for line in page.splitlines() if line.startswith(f"| `{key}` |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_the_signals_page_shows_the_weights_the_policy_packs_give() -> None:
    # given the shipped packs, which weigh the initiative signals in `initiatives.signals`
    from detente.policy.document import PACKS, pack_text, parse_policy

    doc = parse_policy(pack_text(next(iter(PACKS))))
    expected = doc.initiatives.signals.phases_paused
    # when the signals reference is rendered
    page = docgen.signals_page()
    # then the initiative signals show the packs' weight and red line, not the registry's 0
    cells = _signal_row(page, "phases_paused")
    healthy, red_line, weight = cells[6:9]
    assert (healthy, red_line, weight) == (
        f"{expected.healthy:g}",
        f"{expected.red_line:g}",
        f"{expected.weight:g}",
    )
    assert float(weight) > 0
    assert _signal_row(page, "rollouts_cancelled_after_objection")[8] == "0.3"


def test_the_signals_page_names_each_pack_where_packs_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given one pack that weighs phases_paused differently from the others
    from detente.policy import document

    original = document.pack_text

    def pack_text(pack: str) -> str:
        text = original(pack)
        if pack == "fedramp":
            text = text.replace("phases_paused: {weight: 0.1,", "phases_paused: {weight: 0.4,", 1)
            assert "weight: 0.4" in text
        return text

    monkeypatch.setattr(document, "pack_text", pack_text)
    # when the signals reference is rendered
    weight = _signal_row(docgen.signals_page(), "phases_paused")[8]
    # then the weight cell names every pack with its own figure
    assert weight == "bod-26-04: 0.1<br>fedramp: 0.4<br>pci-dss-4: 0.1"
