from functools import cache

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django_otp import device_classes
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.access import remember_access_facts


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


@cache
def _devices_are_totp_only() -> bool:
    """cm_user_access reads the TOTP devices' table alone: true while that is the one kind."""
    return list(device_classes()) == [TOTPDevice]


def user_access(user_id: int) -> tuple[list[str], list[str], bool]:
    """The user's group names, permissions ("app_label.codename", their own and their
    groups') and whether they have a confirmed second-factor device: one call of the database
    function cm_user_access (staff 0002), whose plan the server keeps."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cm_user_access(%s)", [user_id])
        return cursor.fetchone()


class PermissionsBackend(ModelBackend):
    """ModelBackend that reads, with a request's signed-in user, what the request asks of them
    next: their groups (staff.access.in_group), whether they have a second-factor device (the
    two-factor rule) and their permissions (the page's access check), in one statement
    (user_access) instead of three the ORM built on every page. Read on every request, never
    kept: a change to someone's groups, devices or permissions counts from their next page.

    The answers are ModelBackend's and django-otp's; a permission check on a user loaded
    otherwise reads the user's own and their groups' permissions in one query.
    """

    def get_user(self, user_id):
        user = super().get_user(user_id)
        if user is None or not _devices_are_totp_only():
            return user
        group_names, permission_names, has_device = user_access(user.pk)
        remember_access_facts(user, group_names=group_names, has_device=has_device)
        if not user.is_superuser:  # a superuser's are all permissions, read when first asked
            user._perm_cache = set(permission_names)
        return user

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
