from django.apps import AppConfig


class IdentityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "identity"
    verbose_name = "Canonical identity"

    def ready(self):
        from identity.merging import register_merge_mover
        from identity.movers import DuplicateProposalMover

        register_merge_mover("identity", DuplicateProposalMover())
