from django.apps import AppConfig


class ApiRegisterConfig(AppConfig):
    name = "detente.api_register"
    label = "api_register"
    default_auto_field = "django.db.models.BigAutoField"
