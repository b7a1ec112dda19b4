"""Reading the inventory."""

from __future__ import annotations

from detente.core.errors import NotFound
from detente.inventory.models import BusinessService


def service_by_slug(slug: str) -> BusinessService:
    service = BusinessService.objects.filter(slug=slug).first()
    if service is None:
        known = ", ".join(BusinessService.objects.values_list("slug", flat=True)) or "none yet"
        raise NotFound(f"no business service {slug!r} (known: {known})")
    return service
