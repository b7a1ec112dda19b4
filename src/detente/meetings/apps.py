from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "detente.meetings"
    label = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The meeting signal joins the tension registry (this app sits above tension).
        from detente.meetings import signals  # noqa: F401
