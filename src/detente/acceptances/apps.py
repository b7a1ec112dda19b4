from django.apps import AppConfig


class AcceptancesConfig(AppConfig):
    name = "detente.acceptances"
    label = "acceptances"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from detente.acceptances.services import reconcile_after_import
        from detente.findings.services import after_import

        after_import(reconcile_after_import)
