"""What the admin allows on the libraries' models the site depends on: staff authenticator
devices (django-otp), the role groups, the sign-in audit trail (django-axes)."""

import pytest
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.services import totp_device_get_or_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user("Admin"))
    return client


@pytest.fixture
def device():
    return totp_device_get_or_create(user=UserFactory())


def test_a_devices_change_page_does_not_show_its_secret_key(admin_client, device):
    url = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    page = admin_client.get(url).content.decode()
    assert device.user.username in page
    assert device.key not in page


def test_a_devices_secret_key_cannot_be_changed_in_the_admin(admin_client, device):
    key = device.key
    admin_client.post(
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        {"name": "phone", "confirmed": "on", "key": "0" * 40, "user": device.user_id,
         "step": 30, "t0": 0, "digits": 6, "tolerance": 1, "drift": 0,
         "throttling_failure_count": 0},
    )  # fmt: skip
    device.refresh_from_db()
    assert (device.name, device.key) == ("phone", key)


def test_a_device_cannot_be_added_with_a_key_chosen_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403


def test_the_admin_has_no_page_showing_a_devices_key_or_qr_code():
    for name in ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[1])


def test_an_admin_still_deletes_a_lost_device(admin_client, device):
    admin_client.post(
        reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}
    )
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
