"""API register pages: the register (APIs by exposure and test status) and one API's page
(versions, diff, findings, pen tests, promotion history, and the promotion form). The form calls
one service; a refusal comes back as a message with nothing changed but the recorded refusal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from detente.api_register import selectors, services
from detente.api_register.models import Api
from detente.core.errors import DetenteError, NotFound
from detente.web.auth import signed_in
from detente.web.views import _person, _render


@signed_in
@require_GET
def api_register(request: HttpRequest) -> HttpResponse:
    policy = selectors.api_policy()
    rows = selectors.api_rows()
    by_stage: list[tuple[str, list[dict[str, Any]]]] = [
        (stage, [r for r in rows if r["stage"] == stage]) for stage in reversed(policy.stages)
    ]
    return _render(
        request,
        "api_register/register.html",
        {"by_stage": by_stage, "waiting": [r for r in rows if r["test"] != "valid"]},
    )


def _api(name: str) -> Api:
    try:
        return selectors.api_by_name(name)
    except NotFound as exc:
        raise Http404(str(exc)) from None


@signed_in
@require_GET
def api_page(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    detail = selectors.api_detail(api)
    versions = list(api.versions.order_by("-number")[:2])
    diff = (
        selectors.versions_diff(versions[1], versions[0]).as_dict() if len(versions) == 2 else None
    )
    policy = selectors.api_policy()
    later = (
        policy.stages[policy.stages.index(api.stage) + 1 :] if api.stage in policy.stages else []
    )
    checks = [selectors.promotion_check(api, stage) for stage in later]
    return _render(
        request,
        "api_register/api.html",
        {"api": detail, "diff": diff, "checks": checks, "stages": policy.stages},
    )


@signed_in
@require_POST
def api_promote(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    try:
        result = services.api_promote(
            actor=_person(request),
            api=api,
            to_stage=request.POST.get("to", ""),
            force=request.POST.get("force") == "1",
            reason=request.POST.get("reason", ""),
        )
        messages.success(
            request, f"{api.name}: {result.promotion.from_stage} → {result.promotion.to_stage}"
        )
    except DetenteError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("web:api", args=[api.name]))
