"""Pages of org (joined to the web namespace by web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
