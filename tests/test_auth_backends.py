"""staff.auth_backends.PermissionsBackend: ModelBackend's and django-otp's answers, read with
the request's user in one more statement (cm_user_access)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import auth_backends
from staff.access import in_group, is_admin, requires_two_factor
from staff.auth_backends import PermissionsBackend, user_access
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it: no permission cached."""
    return get_user_model().objects.get(pk=user.pk)


def test_a_users_own_and_group_permissions_are_model_backends(staff_user):
    user = staff_user("CPSS Supervisor")
    user.user_permissions.add(Permission.objects.get(codename="view_permission"))
    expected = ModelBackend().get_all_permissions(fresh(user))
    assert "auth.view_permission" in expected
    assert "cm_program.view_enrollment" in expected
    assert PermissionsBackend().get_all_permissions(fresh(user)) == expected


def test_a_superuser_has_every_permission():
    user = UserFactory(is_superuser=True)
    assert PermissionsBackend().get_all_permissions(fresh(user)) == (
        ModelBackend().get_all_permissions(fresh(user))
    )


def test_an_inactive_user_has_none(staff_user):
    user = staff_user("Admin", is_active=False)
    assert PermissionsBackend().get_all_permissions(fresh(user)) == set()


def test_the_first_check_is_one_query_and_the_rest_none(staff_user, django_assert_num_queries):
    user = fresh(staff_user("CPSS"))
    with django_assert_num_queries(1):
        assert user.has_perm("cm_program.view_enrollment")
        assert not user.has_perm("cm_program.decide_supervisorrequest")


def test_user_access_answers_as_django_and_django_otp_do(staff_user):
    user = staff_user("CPSS Supervisor")
    user.groups.add(Group.objects.get(name="Psychiatry"))
    user.user_permissions.add(Permission.objects.get(codename="view_permission"))
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    group_names, permission_names, has_device = user_access(user.pk)

    assert sorted(group_names) == sorted(user.groups.values_list("name", flat=True))
    assert set(permission_names) == ModelBackend().get_all_permissions(fresh(user))
    assert "auth.view_permission" in permission_names
    assert has_device is True
    assert has_device == user_has_device(user)


def test_user_access_counts_only_a_confirmed_device(staff_user):
    user = staff_user("CPSS")
    TOTPDevice.objects.create(user=user, name="half set up", confirmed=False)
    assert user_access(user.pk)[2] is False
    assert user_has_device(user) is False


def test_user_access_of_a_user_without_groups_is_empty():
    user = UserFactory()
    assert user_access(user.pk) == ([], [], False)


def test_a_request_user_comes_with_groups_device_and_permissions(
    staff_user, django_assert_num_queries
):
    user = staff_user("CPSS Supervisor")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    with django_assert_num_queries(2):  # the user, then cm_user_access
        loaded = PermissionsBackend().get_user(user.pk)
    with django_assert_num_queries(0):
        assert loaded.has_perm("cm_program.view_enrollment")
        assert not loaded.has_perm("auth.change_user")
        assert in_group(loaded, "CPSS Supervisor")
        assert not is_admin(loaded)
        assert requires_two_factor(loaded)


def test_a_change_to_someones_groups_counts_from_their_next_request(staff_user):
    user = staff_user("CPSS Supervisor")
    assert in_group(PermissionsBackend().get_user(user.pk), "CPSS Supervisor")
    user.groups.clear()
    again = PermissionsBackend().get_user(user.pk)
    assert not in_group(again, "CPSS Supervisor")
    assert not again.has_perm("cm_program.view_enrollment")


def test_an_inactive_user_is_not_loaded(staff_user):
    user = staff_user("Admin", is_active=False)
    assert PermissionsBackend().get_user(user.pk) is None


def test_a_superusers_permissions_are_read_when_first_asked():
    user = UserFactory(is_superuser=True)
    loaded = PermissionsBackend().get_user(user.pk)
    assert not hasattr(loaded, "_perm_cache")
    assert loaded.get_all_permissions() == ModelBackend().get_all_permissions(fresh(user))


def test_another_device_kind_falls_back_to_the_orm(staff_user, monkeypatch):
    # cm_user_access reads the TOTP devices alone; with another kind installed it cannot answer.
    monkeypatch.setattr(auth_backends, "_devices_are_totp_only", lambda: False)
    user = staff_user("CPSS")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    loaded = PermissionsBackend().get_user(user.pk)
    assert not hasattr(loaded, "_cm_has_device")
    assert requires_two_factor(loaded)
    assert loaded.has_perm("cm_program.view_enrollment")


def test_the_installed_device_kinds_are_totp_alone():
    # If this fails, a device kind was added: extend cm_user_access (staff 0002) to read it.
    assert auth_backends._devices_are_totp_only()
