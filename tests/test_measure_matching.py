"""measure_matching: reports lookups on a synthetic population and keeps none of it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from identity.models import PatientCanonical
from intakeq_link.models import IntakeQPatient

pytestmark = pytest.mark.django_db


def test_measure_matching_reports_lookups_and_rolls_everything_back(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("measure_matching", canonical=300, intakeq=300, lookups=5, stdout=out)

    assert "find_candidates, 5 lookups" in out.getvalue()
    assert "5 found their person" in out.getvalue()
    assert PatientCanonical.objects.count() == 0
    assert IntakeQPatient.objects.count() == 0


def test_measure_matching_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("measure_matching", canonical=10, intakeq=10, lookups=1, stdout=StringIO())

    assert PatientCanonical.objects.count() == 0


def test_measure_matching_dry_run_writes_nothing(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("measure_matching", dry_run=True, stdout=out)

    assert "rolled back" in out.getvalue()
    assert PatientCanonical.objects.count() == 0
