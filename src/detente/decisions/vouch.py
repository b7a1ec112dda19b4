"""What the audit trail vouches for in decision records: their state and chosen option."""

from __future__ import annotations

from collections.abc import Iterator

from detente.audit.selectors import audit_events
from detente.audit.services import Voucher
from detente.decisions.models import DecisionRecord, DecisionStatus


def _decisions() -> Iterator[str]:
    vouched: dict[str, tuple[str, int | None]] = {}
    for _, verb, subject_id, _, after in audit_events(subject_type="decision"):
        if verb == "decision.created":
            vouched[subject_id] = (DecisionStatus.OPEN, None)
        elif isinstance(after, dict) and "status" in after:
            vouched[subject_id] = (str(after["status"]), after.get("chosen_option"))
    rows = DecisionRecord.objects.order_by("id").values_list("id", "status", "chosen_option")
    for pk, status, chosen in rows.iterator(chunk_size=2000):
        recorded = vouched.get(str(pk))
        if recorded != (status, chosen):
            yield (
                f"decision {pk} is {status} (option {chosen}) but the trail recorded "
                f"{recorded or 'nothing'}"
            )


VOUCHERS = (Voucher("decisions", _decisions),)
