from django.apps import AppConfig


class CrossSystemConfig(AppConfig):
    """Admin pages that look across CM and IntakeQ: one person everywhere, and who is in both.

    No models of its own: it renders what ``identity``'s selectors return (identity reaches CM
    and IntakeQ data through reverse relations and imports no other app).
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "cross_system"
    verbose_name = "Cross-system views"
