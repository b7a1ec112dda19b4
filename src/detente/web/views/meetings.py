"""Decision meetings and the facilitated reset: list, show (agenda framed on the five principles,
with its evidence), propose, schedule (with the ICS invitation), the reset's signatures, and the
facilitator's read-only door (its window checked on every request)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from detente.core import clock
from detente.core.errors import DetenteError, InputError, NotFound, PermissionDenied
from detente.meetings import selectors, services
from detente.meetings.ics import meeting_ics
from detente.meetings.models import Meeting, MeetingStatus
from detente.people.models import Role
from detente.people.selectors import people_in, person_by_email
from detente.tension.signals import Period
from detente.web.auth import facilitator_door, signed_in
from detente.web.forms_meetings import MinutesForm
from detente.web.shortcuts import actor, render_page

LEADERS = (Role.CIO, Role.CISO)


@signed_in
@require_GET
def meetings(request: HttpRequest) -> HttpResponse:
    rows = [(m, selectors.follow_through(m)) for m in selectors.meetings()[:100]]
    return render_page(
        request,
        "meetings/list.html",
        {
            "rows": rows,
            "is_leader": actor(request).has_any_role(LEADERS),
        },
    )


@signed_in
@require_POST
def meeting_propose(request: HttpRequest) -> HttpResponse:
    period = request.POST.get("period", "").strip()
    try:
        meeting = services.meeting_propose(
            actor=actor(request),
            period=Period.parse(period) if period else None,
            title=request.POST.get("title", ""),
        )
    except DetenteError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("web:meetings"))
    messages.success(request, f"M-{meeting.pk} proposed.")
    return HttpResponseRedirect(reverse("web:meeting", args=[meeting.pk]))


def _meeting_page(
    request: HttpRequest, found: Meeting, form: MinutesForm | None = None, status: int = 200
) -> HttpResponse:
    is_leader = actor(request).has_any_role(LEADERS)
    # the minutes form: for a leader, once the meeting has started and until it is minuted
    takes_minutes = (
        is_leader
        and found.status == MeetingStatus.SCHEDULED
        and found.starts_at is not None
        and found.starts_at <= clock.now()
    )
    if takes_minutes and form is None:
        form = MinutesForm(
            meeting=found,
            initial={f"attended_{a.person_id}": not a.delegate for a in found.attendees.all()},
        )
    return render_page(
        request,
        "meetings/meeting.html",
        {
            "m": found,
            "state": selectors.follow_through(found),
            "items": found.items.select_related("decision"),
            "attendees": found.attendees.select_related("person"),
            "actions": found.actions.select_related("owner"),
            "is_leader": is_leader,
            "form": form if takes_minutes else None,
        },
        status,
    )


@signed_in
@require_GET
def meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    try:
        found = selectors.meeting_get(meeting_id)
    except NotFound as exc:
        return render_page(request, "error.html", {"message": str(exc)}, 404)
    return _meeting_page(request, found)


@signed_in
@require_POST
def meeting_minutes(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Attendance, minutes, each item decided or deferred, the actions: one service call (the
    same as ``detente meeting minutes`` and the API); a refusal comes back on the form."""
    try:
        found = selectors.meeting_get(meeting_id)
    except NotFound as exc:
        return render_page(request, "error.html", {"message": str(exc)}, 404)
    form = MinutesForm(request.POST, meeting=found)
    if not form.is_valid():
        return _meeting_page(request, found, form, 400)
    try:
        services.meeting_minutes(
            actor=actor(request),
            meeting=found,
            minutes=form.cleaned_data["minutes"],
            attended=form.attended,
            outcomes=form.outcomes,
            actions=form.actions,
        )
    except DetenteError as exc:
        if isinstance(exc, PermissionDenied):
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("web:meeting", args=[meeting_id]))
        if not isinstance(exc, InputError):
            # a rule (not yet held, already minuted, a blank principle without a why): the
            # page says it above the form, which keeps what was typed
            messages.error(request, str(exc))
            return _meeting_page(request, found, form, exc.http_status)
        form.refused(exc)
        return _meeting_page(request, found, form, 400)
    messages.success(request, f"M-{meeting_id} minuted: every item decided or deferred.")
    return HttpResponseRedirect(reverse("web:meeting", args=[meeting_id]))


@signed_in
@require_POST
def meeting_schedule(request: HttpRequest, meeting_id: int) -> HttpResponse:
    try:
        found = selectors.meeting_get(meeting_id)
        raw = request.POST.get("starts_at", "")
        offset = request.POST.get("offset", "+00:00") or "+00:00"
        try:
            starts_at = dt.datetime.fromisoformat(f"{raw}{offset}" if "T" in raw else "")
        except ValueError:
            raise DetenteError(f"give the start as date and time, not {raw!r}") from None
        delegates = [
            person_by_email(e) for e in request.POST.get("delegates", "").replace(",", " ").split()
        ]
        services.meeting_schedule(
            actor=actor(request),
            meeting=found,
            starts_at=starts_at,
            minutes=int(request.POST.get("minutes") or 60),
            location=request.POST.get("location", ""),
            delegates=delegates,
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, f"M-{meeting_id} scheduled; the invitation is ready.")
    except (DetenteError, ValueError) as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("web:meeting", args=[meeting_id]))


@signed_in
@require_GET
def meeting_invitation(request: HttpRequest, meeting_id: int) -> HttpResponse:
    try:
        body = meeting_ics(selectors.meeting_get(meeting_id))
    except DetenteError as exc:
        return render_page(request, "error.html", {"message": str(exc)}, 404)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting_id}.ics"'
    return response


@signed_in
@require_GET
def reset(request: HttpRequest) -> HttpResponse:
    try:
        current = selectors.reset_get()
    except NotFound:
        current = None

    return render_page(
        request,
        "meetings/reset.html",
        {
            "r": current,
            "state": selectors.reset_state(current) if current else None,
            "is_leader": actor(request).has_any_role(LEADERS),
            "facilitators": people_in((Role.FACILITATOR,)),
            "scopes": services.SCOPES,
        },
    )


@signed_in
@require_POST
def reset_action(request: HttpRequest) -> HttpResponse:
    me = actor(request)
    step = request.POST.get("step", "")
    if step not in ("start", "grant", "end"):
        messages.error(request, f"unknown step {step!r}")
        return HttpResponseRedirect(reverse("web:reset"))
    try:
        if step == "start":
            services.reset_start(
                actor=me,
                facilitator=person_by_email(request.POST.get("facilitator")),
                scope=request.POST.getlist("scope"),
                goals=request.POST.get("goals", ""),
                access_days=int(request.POST.get("days") or 90),
            )
        else:
            sign = services.reset_grant if step == "grant" else services.reset_end
            sign(actor=me, reset=selectors.reset_get(int(request.POST.get("reset", "0") or 0)))
        messages.success(request, "Signed." if step != "start" else "Reset proposed.")
    except (DetenteError, ValueError) as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("web:reset"))


@facilitator_door
@require_GET
def facilitator(request: HttpRequest) -> HttpResponse:
    """The facilitator's evidence pack; the window is checked (and the read audited) each time."""
    try:
        pack = services.reset_read(actor=actor(request))
    except PermissionDenied as exc:
        return render(request, "web/meetings/facilitator.html", {"error": str(exc)}, status=403)
    return render(request, "web/meetings/facilitator.html", {"pack": pack})
