from django.apps import AppConfig


class IncentivesConfig(AppConfig):
    """CM's daily work: scheduled visits, drug test results and the incentive ledger."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "incentives"
    verbose_name = "CM incentives"
