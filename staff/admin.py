"""Libraries' admins the site registers again (this app comes after theirs in INSTALLED_APPS,
so its admin module is imported after theirs): what they allow that the practice must not."""

from axes.admin import AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.groups import GROUP_PERMISSIONS


class StaffDeviceAdmin(TOTPDeviceAdmin):
    """Whoever reads a device's secret key can make its owner's codes, so an admin never sees
    or sets one: no key field, no QR code or set-up pages, no adding (the owner sets up their
    own device at /accounts/two-factor/). A lost device is reset by deleting it."""

    readonly_fields = ["user", "created_at", "last_used_at"]

    def get_list_display(self, request):
        return self.list_display

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": ["user", "name", "confirmed", "created_at", "last_used_at"]})]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        keeps_key = {"otp_totp_totpdevice_config", "otp_totp_totpdevice_qrcode"}
        return [url for url in super().get_urls() if getattr(url, "name", None) not in keeps_key]


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, StaffDeviceAdmin)


class RoleGroupAdmin(GroupAdmin):
    """The role groups are what every page's permissions come from (staff/groups.py): deleting
    or renaming one would lock its members out. Other groups change and delete as usual."""

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.name in GROUP_PERMISSIONS:
            return (*super().get_readonly_fields(request, obj), "name")
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        # The changelist's bulk delete asks again for each selected group.
        if obj is not None and obj.name in GROUP_PERMISSIONS:
            return False
        return super().has_delete_permission(request, obj)


class SignInTrailMixin:
    """Who signed in and who failed to is the sign-in audit trail: never deleted here.
    (Deleting an AccessAttempt, which lifts a lockout, stays allowed.)"""

    def has_delete_permission(self, request, obj=None):
        return False


class SignInLogAdmin(SignInTrailMixin, AccessLogAdmin):
    pass


class SignInFailureLogAdmin(SignInTrailMixin, AccessFailureLogAdmin):
    pass


admin.site.unregister(Group)
admin.site.register(Group, RoleGroupAdmin)
for model, model_admin in ((AccessLog, SignInLogAdmin), (AccessFailureLog, SignInFailureLogAdmin)):
    if admin.site.is_registered(model):  # axes registers them unless AXES_ENABLE_ADMIN is off
        admin.site.unregister(model)
        admin.site.register(model, model_admin)
