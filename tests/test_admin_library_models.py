"""What the admin allows on the libraries' models the site depends on: staff authenticator
devices (django-otp), the role groups, the sign-in audit trail (django-axes)."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.groups import GROUP_PERMISSIONS
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


@pytest.mark.parametrize("name", sorted(GROUP_PERMISSIONS))
def test_a_role_group_cannot_be_deleted_in_the_admin(admin_client, name):
    group = Group.objects.get(name=name)
    admin_client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})
    assert Group.objects.filter(pk=group.pk).exists()


def test_role_groups_cannot_be_deleted_with_the_changelists_bulk_action(admin_client):
    admin_client.post(
        reverse("admin:auth_group_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": list(Group.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert set(GROUP_PERMISSIONS) <= set(Group.objects.values_list("name", flat=True))


@pytest.mark.parametrize("name", sorted(GROUP_PERMISSIONS))
def test_a_role_group_cannot_be_renamed_in_the_admin(admin_client, name):
    group = Group.objects.get(name=name)
    admin_client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {
            "name": f"{name} (old)",
            "permissions": list(group.permissions.values_list("pk", flat=True)),
        },
    )
    assert Group.objects.get(pk=group.pk).name == name


def test_a_group_of_no_role_can_still_be_renamed(admin_client):
    group = Group.objects.create(name="Front desk")
    admin_client.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": "Reception"})
    assert Group.objects.get(pk=group.pk).name == "Reception"


def test_a_group_of_no_role_can_still_be_deleted(admin_client):
    group = Group.objects.create(name="Front desk")
    admin_client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})
    assert not Group.objects.filter(pk=group.pk).exists()


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (AccessLog, {"username": "someone", "ip_address": "10.0.0.1"}),
        (AccessFailureLog, {"username": "someone", "ip_address": "10.0.0.1"}),
    ],
)
def test_the_sign_in_audit_trail_cannot_be_deleted_in_the_admin(admin_client, model, fields):
    row = model.objects.create(**fields)
    opts = model._meta
    admin_client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[row.pk]), {"post": "yes"}
    )
    admin_client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    assert model.objects.filter(pk=row.pk).exists()


def test_an_admin_still_lifts_a_lockout_by_deleting_the_attempt(admin_client):
    attempt = AccessAttempt.objects.create(
        username="someone", ip_address="10.0.0.1", failures_since_start=5
    )
    admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()
