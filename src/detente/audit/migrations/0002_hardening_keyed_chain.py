"""Re-chain existing events with the keyed digest (HMAC, key outside the database).

The unkeyed chain is checked first: a broken one is left as it is, so ``audit verify`` still
names the break instead of this migration laundering it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import migrations

GENESIS = "0" * 64


def rechain(apps: Any, schema_editor: Any) -> None:
    from detente.audit.services import _canonical, chain_hash

    event_model = apps.get_model("audit", "AuditEvent")
    head_model = apps.get_model("audit", "AuditHead")
    events = list(event_model.objects.order_by("seq"))
    if not events:
        return

    def canonical(event: Any, prev: str) -> bytes:
        return _canonical(
            seq=event.seq, occurred_at=event.occurred_at, actor_id=event.actor_id,
            actor_label=event.actor_label, verb=event.verb, subject_type=event.subject_type,
            subject_id=event.subject_id, before=event.before, after=event.after, prev_hash=prev,
        )  # fmt: skip

    prev = GENESIS
    for event in events:
        if event.prev_hash != prev or hashlib.sha256(canonical(event, prev)).hexdigest() != (
            event.hash
        ):
            return
        prev = event.hash
    prev = GENESIS
    for event in events:
        event.prev_hash, event.hash = prev, chain_hash(canonical(event, prev))
        event.save(update_fields=["prev_hash", "hash"])
        prev = event.hash
    head_model.objects.filter(id=1).update(hash=prev)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(rechain, migrations.RunPython.noop)]
