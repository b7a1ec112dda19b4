from django.apps import AppConfig


class TensionConfig(AppConfig):
    name = "detente.tension"
    label = "tension"
    default_auto_field = "django.db.models.BigAutoField"
