from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Change history of PHI rows (database triggers) and the log of who viewed which patient.

    A leaf app: it imports the tracked models; nothing of ours imports it except views that
    record access and commands that set an audit context.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit trail"
