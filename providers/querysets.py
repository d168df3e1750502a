from django.db import models


class ProviderCMQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Deny by default. Admins and CPSS supervisors: all CPSS staff. A CPSS: themself."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.has_perm("providers.view_providercm"):
            return self
        return self.filter(user=user)
