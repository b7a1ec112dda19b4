"""Writes on the inventory: services, and the exposure of assets."""

from __future__ import annotations

from django.db import transaction

from detente.audit.services import audit_record
from detente.inventory.models import Asset, BusinessService
from detente.people.models import Person


def service_upsert(
    *,
    slug: str,
    name: str,
    actor: Person | None = None,
    owner: Person | None = None,
    criticality: str = "medium",
    customer_facing: bool = False,
    data_classification: str = "internal",
) -> BusinessService:
    with transaction.atomic():
        service, created = BusinessService.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "owner": owner,
                "criticality": criticality,
                "customer_facing": customer_facing,
                "data_classification": data_classification,
            },
        )
        audit_record(
            actor=actor,
            verb="service.created" if created else "service.updated",
            subject_type="service",
            subject_id=service.pk,
            after={"slug": slug, "name": name, "criticality": criticality},
        )
        return service


def asset_set_exposure(
    *,
    asset: Asset,
    publicly_exposed: bool | None,
    actor: Person | None = None,
    service: BusinessService | None = None,
) -> Asset:
    """Record whether an asset is reachable from public networks (None = unknown = exposed).

    Deadlines depend on it: call ``findings_reevaluate`` afterwards.
    """
    with transaction.atomic():
        locked = Asset.objects.select_for_update().get(pk=asset.pk)
        before = {"publicly_exposed": locked.publicly_exposed, "service": locked.service_id}
        locked.publicly_exposed = publicly_exposed
        fields = ["publicly_exposed"]
        if service is not None:
            locked.service = service
            fields.append("service")
        locked.save(update_fields=fields)
        audit_record(
            actor=actor,
            verb="asset.exposure_set",
            subject_type="asset",
            subject_id=locked.pk,
            before=before,
            after={"publicly_exposed": publicly_exposed, "service": locked.service_id},
        )
        return locked
