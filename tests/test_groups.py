import pytest
from django.contrib.auth.models import Group

from staff import groups

pytestmark = pytest.mark.django_db


def test_the_four_staff_groups_exist_with_their_exact_names():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "CPSS",
        "CPSS Supervisor",
        "Psychiatry",
        "Admin",
    }


def test_psychiatry_group_has_no_cm_permission():
    psychiatry = Group.objects.get(name=groups.PSYCHIATRY)
    labels = set(psychiatry.permissions.values_list("content_type__app_label", flat=True))
    assert labels == {"intakeq_link"}
    assert "cm_program" not in labels


def test_only_the_supervisor_sees_every_cm_patient_among_cpss_staff():
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert "view_all_cm_patients" in codenames(groups.CPSS_SUPERVISOR)
    assert "view_all_cm_patients" not in codenames(groups.CPSS)
    assert "enroll_patient" in codenames(groups.CPSS)
