"""Pages of gates (joined to the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from detente.web.views import gates as views_gates

urlpatterns: list[URLPattern] = [
    path("gate/", views_gates.gate, name="gate"),
    path(
        "gate/overrides/<int:override_id>/sign",
        views_gates.gate_override_sign,
        name="gate_override_sign",
    ),
]
