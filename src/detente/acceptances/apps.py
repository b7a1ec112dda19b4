from django.apps import AppConfig


class AcceptancesConfig(AppConfig):
    name = "detente.acceptances"
    label = "acceptances"
    default_auto_field = "django.db.models.BigAutoField"
