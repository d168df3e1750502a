"""Pods are a list per program that supervisors keep (issue 12, dead end 10)."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from cm_program.forms import NewPatientEnrollmentForm
from cm_program.models import Pod
from cm_program.pods import pod_for_enrollment, pod_update, pods_fold
from tests.factories import (
    ContingencyManagementFactory,
    EnrollmentFactory,
    PodFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db


def test_spellings_that_differ_in_case_or_spaces_fold_into_one_pod():
    program = ContingencyManagementFactory(pod_a=None, pod_b=None)
    for value in ("Pod A", "pod a", "POD  A", "Pod A", "Pod B"):
        EnrollmentFactory(cm_program=program, pod_assignment=value)

    pods_fold()

    assert sorted(Pod.objects.filter(cm_program=program).values_list("name", flat=True)) == [
        "Pod A",
        "Pod B",
    ]
    assert set(program.enrollments.values_list("pod_assignment", flat=True)) == {"Pod A", "Pod B"}


def test_the_data_migration_folds_with_its_historical_models():
    migration = importlib.import_module("cm_program.migrations.0009_pods")
    program = ContingencyManagementFactory(pod_a=None, pod_b=None)
    EnrollmentFactory(cm_program=program, pod_assignment="pod c")

    migration.fold_pods(apps, None)

    assert list(program.pods.values_list("name", flat=True)) == ["pod c"]


def test_a_pod_the_program_does_not_list_is_refused():
    program = ContingencyManagementFactory()
    PodFactory(name="Pod Z")  # another program's

    with pytest.raises(ValidationError, match="not one of"):
        pod_for_enrollment(cm_program=program, name="Pod Z")


def test_a_listed_pod_is_stored_in_the_programs_spelling():
    program = ContingencyManagementFactory()

    assert pod_for_enrollment(cm_program=program, name="  pod   a ") == "Pod A"


def test_renaming_a_pod_moves_its_enrollments_with_it():
    enrollment = EnrollmentFactory(pod_assignment="Pod A")
    pod = enrollment.cm_program.pods.get(name="Pod A")

    pod_update(pod=pod, actor=None, name="North")

    enrollment.refresh_from_db()
    assert enrollment.pod_assignment == "North"


def test_the_enrollment_form_offers_each_programs_pods_grouped():
    program = ContingencyManagementFactory()

    choices = dict(NewPatientEnrollmentForm().fields["pod_assignment"].choices)

    assert [value for value, _ in choices[program.name]] == ["Pod A", "Pod B"]


def test_a_retired_pod_is_no_longer_offered():
    program = ContingencyManagementFactory()
    pod_update(pod=program.pods.get(name="Pod B"), actor=None, is_active=False)

    choices = dict(NewPatientEnrollmentForm().fields["pod_assignment"].choices)

    assert [value for value, _ in choices[program.name]] == ["Pod A"]


def test_a_supervisor_adds_a_pod_on_the_pods_page(client):
    program = ContingencyManagementFactory()
    client.force_login(StaffUserFactory(group="CPSS Supervisor"))

    response = client.post(
        reverse("cm:pods"), {"action": "add", "cm_program": program.pk, "name": " pod  c "}
    )

    assert response.status_code == 302
    assert program.pods.filter(name="pod c").exists()


def test_a_second_spelling_of_an_existing_pod_is_refused_on_the_pods_page(client):
    program = ContingencyManagementFactory()
    client.force_login(StaffUserFactory(group="CPSS Supervisor"))

    response = client.post(
        reverse("cm:pods"),
        {"action": "add", "cm_program": program.pk, "name": "POD A"},
        follow=True,
    )

    assert "already has a pod named POD A" in response.content.decode()
    assert program.pods.count() == 2
