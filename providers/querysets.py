from django.db import models

from core.users import is_active_user


class ProviderCMQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Deny by default. Admins and CPSS supervisors: all CPSS staff. A CPSS: themself."""
        if not is_active_user(user):
            return self.none()
        if user.has_perm("providers.view_providercm"):
            return self
        return self.filter(user=user)
