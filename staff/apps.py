from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    """Staff and what they may do: groups and permissions, the access check every page uses,
    two-factor sign-in, sign-in throttling and the secured admin site."""

    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "staff"
    verbose_name = "Staff access"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from staff.groups import grant_admin_group_new_permissions
        from staff.middleware import stamp_sign_in_time
        from staff.services import expired_sessions_delete

        # Apps added after the groups migration (audit, axes, otp, ...) bring permissions the
        # Admin group must also hold; this runs after auth has created them, on every migrate.
        post_migrate.connect(grant_admin_group_new_permissions, dispatch_uid="cm_admin_all_perms")
        user_logged_in.connect(stamp_sign_in_time, dispatch_uid="cm_signed_in_at")
        user_logged_in.connect(expired_sessions_delete, dispatch_uid="cm_expired_sessions")


class SecureAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site: Admin group and a verified second factor only."""

    default = False
    default_site = "staff.admin_site.SecureAdminSite"
