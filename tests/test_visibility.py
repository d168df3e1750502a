"""``visible_to(user)``: deny by default, CPSS own caseload, supervisor all CM, admin all."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser

from identity.models import PatientCanonical
from intakeq_link.models import IntakeQPatient, PatientIntakeQLink
from providers.models import ProviderCM
from staff.admin_site import ScopedAdminMixin
from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientIntakeQLinkFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def caseloads(staff_user):
    """Two CPSS with one participant each, plus a person in IntakeQ only."""
    mine, theirs = staff_user("CPSS"), staff_user("CPSS")
    my_patient = EnrollmentFactory(cpss_provider=mine.cm_provider).canonical_patient
    their_patient = EnrollmentFactory(cpss_provider=theirs.cm_provider).canonical_patient
    emr_only = PatientIntakeQLinkFactory().canonical_patient
    return mine, my_patient, their_patient, emr_only


def test_cpss_sees_only_their_own_caseload(caseloads):
    mine, my_patient, _, _ = caseloads
    assert list(PatientCanonical.objects.visible_to(mine)) == [my_patient]


def test_supervisor_sees_every_cm_participant_but_not_emr_only_people(caseloads, staff_user):
    _, my_patient, their_patient, _ = caseloads
    visible = set(PatientCanonical.objects.visible_to(staff_user("CPSS Supervisor")))
    assert visible == {my_patient, their_patient}


def test_admin_sees_everyone(caseloads, staff_user):
    assert PatientCanonical.objects.visible_to(staff_user("Admin")).count() == 3


@pytest.mark.parametrize("who", ["Psychiatry", "no group", "anonymous", "inactive CPSS"])
def test_everyone_else_sees_no_canonical_patient(caseloads, staff_user, who):
    if who == "anonymous":
        user = AnonymousUser()
    elif who == "no group":
        user = UserFactory()
    elif who == "inactive CPSS":
        user = caseloads[0]
        user.is_active = False
    else:
        user = staff_user(who)
    assert not PatientCanonical.objects.visible_to(user).exists()


def test_links_are_for_admins_only(caseloads, staff_user):
    assert not PatientIntakeQLink.objects.visible_to(staff_user("CPSS Supervisor")).exists()
    assert PatientIntakeQLink.objects.visible_to(staff_user("Admin")).count() == 1


def test_cpss_sees_only_their_own_provider_row(caseloads, staff_user):
    mine = caseloads[0]
    assert list(ProviderCM.objects.visible_to(mine)) == [mine.cm_provider]
    assert ProviderCM.objects.visible_to(staff_user("CPSS Supervisor")).count() >= 2


def test_intakeq_rows_of_the_old_cm_app_are_visible_to_admins_only(staff_user):
    from_intakeq = IntakeQPatientFactory()
    IntakeQPatientFactory(intakeq_client_id=None)
    assert list(IntakeQPatient.objects.visible_to(staff_user("Psychiatry"))) == [from_intakeq]
    assert IntakeQPatient.objects.visible_to(staff_user("Admin")).count() == 2


def test_intakeq_rows_are_hidden_from_staff_without_an_intakeq_permission():
    IntakeQPatientFactory()
    assert not IntakeQPatient.objects.visible_to(UserFactory()).exists()


def test_every_admin_page_is_scoped_by_visible_to():
    unscoped = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, ScopedAdminMixin)
    ]
    assert unscoped == []


def test_admin_queryset_follows_visible_to(rf, caseloads):
    model_admin = admin.site._registry[PatientCanonical]
    request = rf.get("/")
    request.user = caseloads[0]
    assert list(model_admin.get_queryset(request)) == [caseloads[1]]


def test_a_patient_outside_the_caseload_is_not_found_by_its_id(caseloads):
    mine, _, their_patient, _ = caseloads
    assert not PatientCanonical.objects.visible_to(mine).filter(pk=their_patient.pk).exists()


def test_a_canonical_patient_not_yet_enrolled_is_visible_to_no_cpss(staff_user):
    PatientCanonicalFactory()
    assert not PatientCanonical.objects.visible_to(staff_user("CPSS")).exists()
