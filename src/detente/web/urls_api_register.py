"""Pages of api_register (joined to the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from detente.web import views_api_register

urlpatterns: list[URLPattern] = [
    path("apis", views_api_register.api_register, name="apis"),
    path("apis/<str:name>", views_api_register.api_page, name="api"),
    path("apis/<str:name>/promote", views_api_register.api_promote, name="api_promote"),
]
