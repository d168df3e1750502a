"""Libraries' admins the site registers again (this app comes after theirs in INSTALLED_APPS,
so its admin module is imported after theirs): what they allow that the practice must not."""

from django.contrib import admin
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice


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
