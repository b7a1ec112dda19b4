"""Release-gate demo content: gate runs on real sample scans for two services, one blocked build
passed by a CIO override that the CISO co-signed (a decided decision record), and one pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from detente.core import clock
from detente.gates.evaluate import GateRequest, evaluate
from detente.gates.services import gate_override, gate_override_sign, gate_run_record
from detente.inventory.models import BusinessService
from detente.people.models import Person


def build_gate_demo(*, samples: Path, progress: Callable[[str], None] = lambda _m: None) -> None:
    engineer = Person.objects.get(email="engineer@demo.detente")
    cio = Person.objects.get(email="cio@demo.detente")
    ciso = Person.objects.get(email="ciso@demo.detente")
    payments = BusinessService.objects.get(slug="payments-api")
    banking = BusinessService.objects.get(slug="online-banking")
    scans = samples / "scans"
    build = [scans / "anchore_grype/check_all_fields.json", scans / "gitleaks/data_many.json"]
    blocked = evaluate(GateRequest(payments, "3.1.0", build))
    run = gate_run_record(result=blocked, service=payments, actor=engineer, commit="9f3c2e1",
                          ref="release/3.1")  # fmt: skip
    with clock.frozen_at(clock.now() + dt.timedelta(minutes=40)):
        again = gate_run_record(result=evaluate(GateRequest(payments, "3.1.0", build)),
                                service=payments, actor=engineer, commit="9f3c2e1",
                                ref="release/3.1")  # fmt: skip
        override = gate_override(
            run=again, actor=cio,
            reason="Regulatory deadline for the new payment scheme; the secrets are test keys "
            "being rotated today",
        )  # fmt: skip
        gate_override_sign(actor=ciso, override=override,
                           comment="Agreed for this release; rotation tracked")  # fmt: skip
    passed = evaluate(GateRequest(banking, "7.4.2", [scans / "trivy/all_statuses.json"]))
    gate_run_record(result=passed, service=banking, actor=engineer, commit="4be81d0", ref="main")
    progress(
        f"gate: payments-api 3.1.0 {run.decision} (run #{run.pk}), overridden by the CIO and "
        f"co-signed by the CISO (GO-{override.pk}); online-banking 7.4.2 {passed.decision}"
    )
