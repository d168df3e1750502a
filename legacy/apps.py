from django.apps import AppConfig


class LegacyConfig(AppConfig):
    """The one-off move of the old CM app's data (``manage.py migrate_cm_legacy``)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "legacy"
    verbose_name = "Legacy CM migration"
