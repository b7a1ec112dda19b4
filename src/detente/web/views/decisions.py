"""Decision records on the five principles."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from detente.core.errors import DetenteError, InputError, NotFound
from detente.decisions.models import EscalationLevel, PressurePoint
from detente.decisions.principles import missing_of
from detente.decisions.selectors import decision_get, decisions_list
from detente.decisions.services import decision_create, decision_decide
from detente.people.models import Role
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page


@signed_in
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    return render_page(request, "decisions.html", {"rows": decisions_list()[:200]})


@signed_in
@require_http_methods(["GET", "POST"])
def decision_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        options = [
            {
                "title": t,
                "business_benefit": b,
                "facts": [x.strip() for x in f.splitlines() if x.strip()],
            }
            for t, b, f in zip(
                post.getlist("option_title"),
                post.getlist("option_benefit"),
                post.getlist("option_facts"),
                strict=False,
            )
            if t.strip() or b.strip()
        ]
        try:
            review = dt.date.fromisoformat(post["review_date"]) if post.get("review_date") else None
            record = decision_create(
                actor=actor(request),
                title=post.get("title", ""),
                pressure_point=post.get("pressure_point", ""),
                question=post.get("question", ""),
                options=options,
                company_first=post.get("company_first", ""),
                cio_position=post.get("cio_position", ""),
                ciso_position=post.get("ciso_position", ""),
                informed=[x.strip() for x in post.get("informed", "").split(",") if x.strip()],
                win_win=post.get("win_win", ""),
                review_date=review,
                escalation_level=post.get("escalation_level", "team"),
            )
        except (DetenteError, ValueError) as exc:
            messages.error(request, str(exc))
        else:
            return HttpResponseRedirect(reverse("web:decision", args=[record.pk]))
    return render_page(
        request,
        "decision_new.html",
        {
            "points": PressurePoint.choices,
            "levels": EscalationLevel.choices,
            "form": request.POST,
            "slots": range(3),
        },
    )


@signed_in
@require_http_methods(["GET", "POST"])
def decision_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    try:
        d = decision_get(decision_id)
    except NotFound:
        return render_page(
            request,
            "error.html",
            {"message": f"Decision record {decision_id} does not exist."},
            404,
        )
    if request.method == "POST":
        followed = request.POST.get("ciso_followed")
        option = request.POST.get("chosen_option")
        try:
            decision_decide(
                actor=actor(request),
                record=d,
                decision=request.POST.get("decision", ""),
                # people number options from 1; the record stores the index from 0
                chosen_option=_option_index(option),
                ciso_recommendation_followed=None if followed in (None, "") else followed == "yes",
                why_blank=request.POST.get("why_blank", ""),
            )
        except DetenteError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("web:decision", args=[decision_id]))
    can_decide = d.status == "open" and actor(request).has_any_role((Role.CIO, Role.CISO))
    return render_page(
        request,
        "decision.html",
        {
            "d": d,
            "acceptances": d.acceptances.all(),
            "can_decide": can_decide,
            "missing": missing_of(d),
        },
    )


def _option_index(text: str | None) -> int | None:
    if not text:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise InputError("the chosen option is a number from 1", field="chosen_option")
    return int(text) - 1
