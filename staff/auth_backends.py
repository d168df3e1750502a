from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class ThrottledBackend(AxesStandaloneBackend):
    """django-axes' lock-out check for every sign-in that comes with a request.

    Every web sign-in (our login page, the admin's) passes the request. A call without one comes
    from code (a shell, ``Client.login`` in tests), where there is no address to throttle; axes
    would raise, so this backend steps aside and lets ModelBackend answer.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PermissionsBackend(ModelBackend):
    """ModelBackend whose first permission check reads the user's own and their groups'
    permissions in one query instead of two: every page checks permissions, so every page paid
    for the second round trip. The answers are ModelBackend's."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(
                    Q(user=user_obj) | Q(group__in=user_obj.groups.all())
                )
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                ).order_by()
            }
        return user_obj._perm_cache
