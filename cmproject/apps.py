from django.apps import AppConfig


class CmprojectConfig(AppConfig):
    """The project itself, installed so it can hold commands that span every app (seed_demo)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "cmproject"
    verbose_name = "CM back office"
