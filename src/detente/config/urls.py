from django.urls import URLPattern, URLResolver, include, path

from detente.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", api.urls),
    path("", include("detente.web.urls")),
]
