from importlib import import_module

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


@transaction.atomic
def totp_device_get_or_create(*, user, name: str = "Authenticator app") -> TOTPDevice:
    """The user's confirmed TOTP device, else the one being set up (made if absent)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    if device is not None:
        return device
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice(user=user, name=name, confirmed=False)
        device.full_clean()
        device.save()
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice) -> TOTPDevice:
    if device.confirmed:
        return device
    device.confirmed = True
    device.full_clean()
    device.save(update_fields=["confirmed"])
    return device


def expired_sessions_delete(**kwargs) -> None:
    """user_logged_in receiver: delete the sessions past their expiry. A session holds what was
    typed into forms and searches (names, dates of birth: core.searches, cm_program.drafts), and
    one left to time out is never signed out of, so nothing else would ever delete its row."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
