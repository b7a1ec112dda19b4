"""The demo organisation as an organisation file (``demo/org.yaml``), applied like any other."""

from __future__ import annotations

from pathlib import Path

from detente.inventory.models import BusinessService
from detente.org.document import read_document
from detente.org.services import org_apply
from detente.people.models import Person

ORG_FILE = Path(__file__).with_name("org.yaml")


def demo_organisation() -> tuple[dict[str, Person], dict[str, BusinessService]]:
    """Apply ``org.yaml`` as the system; return the people by e-mail and services by slug."""
    document = read_document(ORG_FILE)
    # keep_missing: people that other demo parts and scenarios add stay active on a re-run.
    org_apply(document=document, actor=None, keep_missing=True, file="demo/org.yaml")
    people = {
        p.email: p
        for p in Person.objects.filter(email__in=[e.email for e in document.people or ()])
    }
    services = {
        s.slug: s
        for s in BusinessService.objects.select_related("owner").filter(
            slug__in=[e.slug for e in document.services or ()]
        )
    }
    return people, services
