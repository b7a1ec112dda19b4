"""Pages of initiatives (joined to the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from detente.web.views import initiatives as views_initiatives

urlpatterns: list[URLPattern] = [
    path("initiatives/", views_initiatives.initiatives, name="initiatives"),
    path("initiatives/new", views_initiatives.initiative_new, name="initiative_new"),
    path(
        "initiatives/<int:initiative_id>/", views_initiatives.initiative_detail, name="initiative"
    ),
    path(
        "initiatives/<int:initiative_id>/<slug:action>",
        views_initiatives.initiative_act,
        name="initiative_act",
    ),
]
