"""Pages of decision meetings and resets (joined to the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from detente.web.views import meetings as views_meetings

urlpatterns: list[URLPattern] = [
    path("meetings/", views_meetings.meetings, name="meetings"),
    path("meetings/propose", views_meetings.meeting_propose, name="meeting_propose"),
    path("meetings/<int:meeting_id>", views_meetings.meeting, name="meeting"),
    path(
        "meetings/<int:meeting_id>/schedule",
        views_meetings.meeting_schedule,
        name="meeting_schedule",
    ),
    path(
        "meetings/<int:meeting_id>/minutes",
        views_meetings.meeting_minutes,
        name="meeting_minutes",
    ),
    path("meetings/<int:meeting_id>/ics", views_meetings.meeting_invitation, name="meeting_ics"),
    path("reset/", views_meetings.reset, name="reset"),
    path("reset/sign", views_meetings.reset_action, name="reset_action"),
    path("reset/facilitator", views_meetings.facilitator, name="facilitator"),
]
