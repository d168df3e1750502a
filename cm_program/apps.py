from django.apps import AppConfig


class CmProgramConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cm_program"
    verbose_name = "CM program"

    def ready(self):
        from cm_program.movers import CmProgramMover
        from identity.merging import register_merge_mover

        register_merge_mover("cm_program", CmProgramMover())
