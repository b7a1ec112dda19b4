"""Pages of api_register (joined to the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from detente.web.views import api_register as views_api_register

urlpatterns: list[URLPattern] = [
    path("apis", views_api_register.api_register, name="apis"),
    path("apis/<str:name>", views_api_register.api_page, name="api"),
    path("apis/<str:name>/versions", views_api_register.api_version_add, name="api_version_add"),
    path("apis/<str:name>/pentests", views_api_register.api_pentest_add, name="api_pentest_add"),
    path(
        "apis/<str:name>/pentests/<int:pentest_id>/report/attach",
        views_api_register.api_pentest_report_attach,
        name="api_pentest_report_attach",
    ),
    path(
        "apis/<str:name>/pentests/<int:pentest_id>/report",
        views_api_register.api_pentest_report,
        name="api_pentest_report",
    ),
    path("apis/<str:name>/promote", views_api_register.api_promote, name="api_promote"),
]
