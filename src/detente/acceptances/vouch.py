"""What the audit trail vouches for in acceptances: every signature (signer, role, verdict) and
every acceptance's state. ``audit verify`` runs these after the chain itself checks out, so a
signer or a state edited in the database behind the services is named."""

from __future__ import annotations

from collections.abc import Iterator

from detente.acceptances.models import RiskAcceptance, Signature
from detente.audit.selectors import audit_events, audit_last_values
from detente.audit.services import Voucher


def _signatures() -> Iterator[str]:
    signed: set[tuple[str, int | None, str, str]] = set()
    for _, verb, subject_id, actor_id, after in audit_events(
        subject_type="acceptance", verb_prefix="acceptance.signed."
    ):
        role = after.get("role", "") if isinstance(after, dict) else ""
        signed.add((subject_id, actor_id, str(role), verb.removeprefix("acceptance.signed.")))
    rows = Signature.objects.order_by("id").values_list(
        "id", "acceptance_id", "signer_id", "role", "verdict"
    )
    for pk, acceptance_id, signer_id, role, verdict in rows.iterator(chunk_size=2000):
        if (str(acceptance_id), signer_id, role, verdict) not in signed:
            yield (
                f"signature {pk} on RA-{acceptance_id} (signer {signer_id}, {role}, {verdict}) "
                "is not the one the trail recorded"
            )


def _states() -> Iterator[str]:
    vouched = audit_last_values(subject_type="acceptance", key="status")
    rows = RiskAcceptance.objects.order_by("id").values_list("id", "status")
    for pk, status in rows.iterator(chunk_size=2000):
        recorded = vouched.get(str(pk))
        if recorded != status:
            yield f"RA-{pk} is {status} but the trail last recorded {recorded or 'nothing'}"


VOUCHERS = (
    Voucher("acceptance signatures", _signatures),
    Voucher("acceptance states", _states),
)
