from django.apps import AppConfig


class CmprojectConfig(AppConfig):
    """The composition root, installed for what spans every app: the demo data (``seed_demo``)
    and the migration history it kept from before the staff and legacy apps existed."""

    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "cmproject"
    verbose_name = "CM back office"
