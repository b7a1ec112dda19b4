"""What a service owner may read beyond findings and acceptances: the audit log and the import
summaries of their own services. Everyone else reads them whole (docs/web-and-api.md)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from detente.acceptances.selectors import visible_acceptances
from detente.audit.models import AuditEvent
from detente.findings.models import ScanImport
from detente.people.models import Person


def visible_imports(person: Person) -> QuerySet[ScanImport]:
    """A service owner: imports into their services, or made by them."""
    query = ScanImport.objects.all()
    if person.owner_scoped:
        query = query.filter(Q(service__owner=person) | Q(actor=person))
    return query


def visible_audit_events(person: Person) -> QuerySet[AuditEvent]:
    """A service owner: the events they caused, and those about the acceptances and imports of
    their services (their ids as the audit stores them, text)."""
    events = AuditEvent.objects.all()
    if not person.owner_scoped:
        return events
    acceptances = [str(pk) for pk in visible_acceptances(person).values_list("id", flat=True)]
    imports = [str(pk) for pk in visible_imports(person).values_list("id", flat=True)]
    return events.filter(
        Q(actor=person)
        | Q(subject_type="acceptance", subject_id__in=acceptances)
        | Q(subject_type="scan_import", subject_id__in=imports)
    )
