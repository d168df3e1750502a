from django.apps import AppConfig


class IntakeqLinkConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "intakeq_link"
    verbose_name = "IntakeQ link"

    def ready(self):
        from identity.matching import register_candidate_source
        from identity.merging import register_merge_mover
        from intakeq_link.matching import INTAKEQ, INTAKEQ_BLOCK_FUNCTION
        from intakeq_link.movers import IntakeQLinkMover

        register_candidate_source(INTAKEQ, INTAKEQ_BLOCK_FUNCTION)
        register_merge_mover("intakeq_link", IntakeQLinkMover())
