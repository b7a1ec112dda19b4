from django.apps import AppConfig


class IntelConfig(AppConfig):
    name = "detente.intel"
    label = "intel"
    default_auto_field = "django.db.models.BigAutoField"
