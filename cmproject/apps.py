from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CmprojectConfig(AppConfig):
    """The composition root, installed for what spans every app: the demo data (``seed_demo``),
    the database roles (``database_roles_sql``, and the grants after every ``migrate``) and the
    migration history it kept from before the staff and legacy apps existed."""

    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "cmproject"
    verbose_name = "CM back office"

    def ready(self):
        # Sent for this app last (it is last in INSTALLED_APPS): every table exists by then.
        post_migrate.connect(_harden_history_tables, sender=self)


def _harden_history_tables(sender, using, **kwargs):
    from django.db import connections

    from cmproject.database_roles import harden_history_tables

    with connections[using].cursor() as cursor:
        harden_history_tables(cursor)
