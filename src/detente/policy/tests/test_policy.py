"""Policy packs, validation and the BOD 26-04 table against CERT/CC's published CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from detente.core.errors import InputError
from detente.policy.deadlines import DeadlineEvaluator, DeadlineInputs
from detente.policy.document import PACKS, pack_text, parse_policy
from detente.policy.models import PolicyVersion
from detente.policy.services import policy_activate, policy_ensure_default

CLASS_OF_TIMELINE = {
    "fix on system upgrade": "next-upgrade",
    "60 days": "60d",
    "14 days": "14d",
    "3 days": "3d",
    "3 days & forensic investigation": "3d-triage",
}


def test_default_table_equals_cert_cc_bod_26_04_csv(samples: Path) -> None:
    doc = parse_policy(pack_text("bod-26-04"))
    path = samples / "intel/ssvc/cisa/cisa_bod_26_04_1_0_0.csv"
    with path.open() as handle:
        rows = list(csv.reader(handle))[1:]
    assert len(rows) == 16
    for number, kev, exposed, auto, impact, timeline in rows:
        key = (kev == "yes", exposed == "yes", auto == "yes", impact == "total")
        assert doc.bod_table[key] == (int(number), CLASS_OF_TIMELINE[timeline])


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_every_pack_validates(pack: str) -> None:
    doc = parse_policy(pack_text(pack))
    assert doc.pack == pack


def _inputs(**overrides: object) -> DeadlineInputs:
    base: dict[str, object] = {
        "has_cve": True,
        "severity": "high",
        "in_kev": False,
        "exposed": True,
        "exposure_source": "asset",
        "automatable": False,
        "automatable_source": "cvss 3.1",
        "total_impact": False,
        "impact_source": "cvss 3.1",
    }
    return DeadlineInputs(**(base | overrides))  # type: ignore[arg-type]


def test_fedramp_uses_severity_and_caps_kev_at_14_days() -> None:
    evaluator = DeadlineEvaluator(parse_policy(pack_text("fedramp")), 2)
    assert evaluator.decide(_inputs(severity="medium")).days == 90
    assert evaluator.decide(_inputs(severity="critical")).days == 30
    kev = evaluator.decide(_inputs(severity="low", in_kev=True))
    assert (kev.days, kev.deadline_class) == (14, "14d")


def test_pci_gives_critical_one_month() -> None:
    evaluator = DeadlineEvaluator(parse_policy(pack_text("pci-dss-4")), 3)
    assert evaluator.decide(_inputs(severity="critical")).days == 30
    assert evaluator.decide(_inputs(severity="high")).days == 90


def test_identical_inputs_are_decided_once() -> None:
    evaluator = DeadlineEvaluator(parse_policy(pack_text("bod-26-04")), 1)
    assert evaluator.decide(_inputs()) is evaluator.decide(_inputs())


DEFAULT = pack_text("bod-26-04")
ROW_15 = "    - [yes, yes, yes, total,   3d-triage]      # row 15\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        (DEFAULT.replace("max_renewals: 2", "max_renewal: 2"), "unknown field"),
        (DEFAULT.replace("critical: 14d", "critical: 15d"), "unknown deadline class"),
        (DEFAULT.replace(ROW_15, ""), "16 distinct"),
        (DEFAULT.replace("days: 60}", "days: sixty}"), "Expected `int"),
    ],
)
def test_invalid_policies_are_refused_with_the_place(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_policy(text, source="mine.yaml")
    assert str(caught.value).startswith("mine.yaml")


@pytest.mark.django_db
def test_activation_versions_and_keeps_one_active() -> None:
    first = policy_ensure_default()
    assert (first.version, first.pack) == (1, "bod-26-04")
    same = policy_activate(text=pack_text("bod-26-04"), source="again")
    assert same.pk == first.pk
    second = policy_activate(text=pack_text("fedramp"), source="pack")
    assert second.version == 2
    assert list(PolicyVersion.objects.filter(active=True)) == [second]


@pytest.mark.django_db
def test_an_invalid_policy_changes_nothing() -> None:
    policy_ensure_default()
    with pytest.raises(InputError):
        policy_activate(text="name: x", source="bad.yaml")
    assert PolicyVersion.objects.count() == 1
    assert PolicyVersion.objects.get(active=True).version == 1
