"""Reading the inventory."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from detente.core.errors import NotFound
from detente.inventory.models import Asset, BusinessService


def service_by_slug(slug: str) -> BusinessService:
    service = BusinessService.objects.filter(slug=slug).first()
    if service is None:
        known = ", ".join(BusinessService.objects.values_list("slug", flat=True)) or "none yet"
        raise NotFound(f"no business service {slug!r} (known: {known})")
    return service


def service_known(slug_or_name: str) -> bool:
    return BusinessService.objects.filter(Q(slug=slug_or_name) | Q(name=slug_or_name)).exists()


def service_slugs() -> list[str]:
    return list(BusinessService.objects.order_by("slug").values_list("slug", flat=True))


def services_list(*, inactive: bool = False) -> QuerySet[BusinessService]:
    """Services by slug with owner and team; only active ones unless ``inactive``."""
    rows = BusinessService.objects.select_related("owner", "team").order_by("slug")
    return rows if inactive else rows.filter(active=True)


def asset_get(pk: int) -> Asset:
    found = Asset.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"asset {pk} does not exist")
    return found


def assets_list(*, inactive: bool = False) -> QuerySet[Asset]:
    """Assets by kind and identifier; only active ones unless ``inactive``."""
    rows = Asset.objects.order_by("kind", "identifier")
    return rows if inactive else rows.filter(active=True)


def services_by_slugs(slugs: Iterable[str]) -> list[BusinessService]:
    return list(BusinessService.objects.filter(slug__in=list(slugs)))


def service_or_none(slug: str) -> BusinessService | None:
    return BusinessService.objects.filter(slug=slug).first() if slug else None


def services_by_name() -> QuerySet[BusinessService]:
    return BusinessService.objects.order_by("name")
