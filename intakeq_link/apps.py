from django.apps import AppConfig


class IntakeqLinkConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "intakeq_link"
    verbose_name = "IntakeQ link"
