"""staff.auth_backends.PermissionsBackend: ModelBackend's answers, in one query."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from staff.auth_backends import PermissionsBackend
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
