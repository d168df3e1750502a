from django.apps import AppConfig


class CmProgramConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cm_program"
    verbose_name = "CM program"
