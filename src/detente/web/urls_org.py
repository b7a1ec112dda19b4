"""Pages of org (joined to the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from detente.web.views import org as views_org

urlpatterns: list[URLPattern] = [
    path("org/people", views_org.people, name="org_people"),
    path("org/services", views_org.services, name="org_services"),
    path("org/services/<slug:slug>/edit", views_org.service_edit, name="org_service_edit"),
    path("org/people/<int:pk>/roles", views_org.person_roles, name="org_person_roles"),
    path("org/assets", views_org.assets, name="org_assets"),
    path("org/<str:kind>/<int:pk>/deactivate", views_org.deactivate, name="org_deactivate"),
]
