from django.urls import URLPattern, path

from detente.web import auth, views, views_account, views_incidents, views_planning, views_tension

app_name = "web"

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("login", auth.login_view, name="login"),
    path("login/code", auth.login_code_view, name="login_code"),
    path("logout", auth.logout_view, name="logout"),
    path("ciso", views.ciso, name="ciso"),
    path("cio", views.cio, name="cio"),
    path("findings", views.findings, name="findings"),
    path("findings.csv", views.findings_csv, name="findings_csv"),
    path("findings/<int:finding_id>", views.finding_detail, name="finding"),
    path("imports/new", views.upload, name="upload"),
    path("imports/<int:import_id>", views.import_detail, name="import"),
    path("acceptances", views.acceptances, name="acceptances"),
    path("acceptances/new", views.acceptance_new, name="acceptance_new"),
    path("acceptances/<int:acceptance_id>", views.acceptance_detail, name="acceptance"),
    path(
        "acceptances/<int:acceptance_id>/<str:action>",
        views.acceptance_act,
        name="acceptance_act",
    ),
    path("decisions", views.decisions, name="decisions"),
    path("decisions/new", views.decision_new, name="decision_new"),
    path("decisions/<int:decision_id>", views.decision_detail, name="decision"),
    path("audit", views.audit, name="audit"),
    path("incidents", views_incidents.incidents, name="incidents"),
    path("incidents/new", views_incidents.incident_new, name="incident_new"),
    path("incidents/<int:incident_id>", views_incidents.incident_detail, name="incident"),
    path(
        "incidents/<int:incident_id>/briefings/<int:number>.<str:fmt>",
        views_incidents.briefing_download,
        name="briefing_download",
    ),
    path(
        "incidents/<int:incident_id>/<str:action>",
        views_incidents.incident_act,
        name="incident_act",
    ),
    path("radar", views_tension.radar, name="radar"),
    path("radar/compute", views_tension.radar_compute, name="radar_compute"),
    path("radar/<str:period>", views_tension.radar_period, name="radar_period"),
    path("profile", views_tension.profile, name="profile"),
    path("pairing", views_tension.pairing, name="pairing"),
    path("pulse", views_tension.pulse, name="pulse"),
    path("plan", views_planning.plan, name="plan"),
    path("plan/make", views_planning.plan_make, name="plan_make"),
    path("plan/what-if", views_planning.plan_what_if, name="plan_what_if"),
    path("plan.ics", views_planning.plan_download, name="plan_ics"),
    path("plan/items/<int:item_id>/defer", views_planning.plan_defer, name="plan_defer"),
    path("account", views_account.account, name="account"),
    path("account/tokens", views_account.token_new, name="account_token_new"),
    path(
        "account/tokens/<int:token_id>/revoke",
        views_account.token_revoke,
        name="account_token_revoke",
    ),
    path("account/totp", views_account.totp_setup, name="account_totp"),
    path("account/totp/confirm", views_account.totp_confirm, name="account_totp_confirm"),
]
