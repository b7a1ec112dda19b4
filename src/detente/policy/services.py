"""Storing, validating and activating policy versions."""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING

from django.db import transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.policy.document import PolicyDocument, pack_text, parse_policy
from detente.policy.models import PolicyVersion

if TYPE_CHECKING:
    from detente.people.models import Person


def policy_activate(*, text: str, source: str, actor: Person | None = None) -> PolicyVersion:
    """Validate ``text`` and make it the active policy, as a new version (unless identical)."""
    doc = parse_policy(text, source=source)
    sha = hashlib.sha256(text.encode()).hexdigest()
    with transaction.atomic():
        current = PolicyVersion.objects.select_for_update().filter(active=True).first()
        if current is not None and current.sha256 == sha:
            return current
        last = PolicyVersion.objects.order_by("-version").values_list("version", flat=True).first()
        PolicyVersion.objects.filter(active=True).update(active=False)
        version = PolicyVersion.objects.create(
            version=(last or 0) + 1,
            name=doc.name,
            pack=doc.pack,
            document=text,
            sha256=sha,
            active=True,
            created_at=clock.now(),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            verb="policy.activated",
            subject_type="policy",
            subject_id=version.version,
            before={"version": current.version} if current else None,
            after={"version": version.version, "pack": doc.pack, "sha256": sha},
        )
        return version


def policy_ensure_default() -> PolicyVersion:
    """The active policy; the default pack (BOD 26-04) is activated on first use."""
    current = PolicyVersion.objects.filter(active=True).first()
    if current is not None:
        return current
    return policy_activate(text=pack_text("bod-26-04"), source="pack bod-26-04")


def active_policy() -> tuple[PolicyDocument, PolicyVersion]:
    """The active policy, parsed once per version (imports ask for it for every file)."""
    version = policy_ensure_default()
    return _parsed(version.version, version.sha256, version.document), version


@functools.lru_cache(maxsize=8)
def _parsed(version: int, sha256: str, document: str) -> PolicyDocument:
    return parse_policy(document, source=f"policy v{version}")
