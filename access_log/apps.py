from django.apps import AppConfig


class AccessLogConfig(AppConfig):
    """Who opened which patient's page, and when: the page-view half of the audit trail.

    A leaf: it imports none of our apps, so every page of every app may record its views.
    (The change history, which must import the models it tracks, is the ``audit`` app.)
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "access_log"
    verbose_name = "Patient page views"
