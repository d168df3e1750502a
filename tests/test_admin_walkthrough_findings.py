"""What an administrator's walk through the admin and its commands found (QA, admin side)."""

import pytest
from django.urls import reverse

from cm_program.models import PatientCM
from identity.models import PatientCanonical
from tests.factories import PatientCanonicalFactory, PatientCMFactory, admin_user

pytestmark = pytest.mark.django_db


def test_the_admin_cannot_delete_a_canonical_patient(client):
    # Every canonical row is someone's medical record; a duplicate is merged, never deleted.
    patient = PatientCanonicalFactory()
    client.force_login(admin_user())

    response = client.post(
        reverse("admin:identity_patientcanonical_delete", args=[patient.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert PatientCanonical.objects.filter(pk=patient.pk).exists()


def test_the_admin_cannot_delete_a_cm_record(client):
    # A CM record detached by a merge must still be there for the unmerge to re-attach it.
    cm_record = PatientCMFactory()
    client.force_login(admin_user())

    response = client.post(
        reverse("admin:cm_program_patientcm_delete", args=[cm_record.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert PatientCM.objects.filter(pk=cm_record.pk).exists()
