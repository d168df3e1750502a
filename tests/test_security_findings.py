"""Findings of a security review: each test shows one defect an attacker (or a slip) could use."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_a_withdrawn_person_cannot_be_re_enrolled_with_a_date_in_the_future(client, staff_user):
    # A future enrollment date would refuse every test until then ("dated before the person was
    # enrolled") while the enrollment counts as active; consent dates refuse the future too.
    supervisor = staff_user("CPSS Supervisor")
    enrollment = EnrollmentFactory(status="withdrawn")
    client.force_login(supervisor)
    client.post(
        reverse("cm:enrollment-reactivate", kwargs={"enrollment_id": enrollment.pk}),
        {
            "cpss_provider": enrollment.cpss_provider_id,
            "enrollment_date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
            "reason": "Back from treatment",
        },
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "withdrawn"


def test_a_session_that_timed_out_does_not_keep_what_was_typed_into_a_form(client, staff_user):
    # Forms keep what was typed (names, dates of birth) in the session between a POST and its
    # redirect (cm_program.drafts); a session left to time out kept its row, PHI and all, for
    # good: nothing ever deleted expired sessions.
    from django.contrib.sessions.models import Session
    from django.test import Client

    from tests.factories import ContingencyManagementFactory

    cpss = staff_user("CPSS")
    client.force_login(cpss)
    client.post(
        reverse("cm:enroll-new"),
        {
            "first_name": "Jessica",
            "last_name": "Zyzzlewicz",
            "date_of_birth": "1992-03-22",
            "cm_program": str(ContingencyManagementFactory().pk),
            "action": "check",
        },
    )
    assert any("Zyzzlewicz" in str(s.get_decoded()) for s in Session.objects.all())
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(minutes=1))

    Client().force_login(staff_user("CPSS"))

    assert not any("Zyzzlewicz" in str(s.get_decoded()) for s in Session.objects.all())


def test_a_schedule_cannot_plan_visits_for_centuries(staff_user):
    # Checking ranges for overlap builds a set of every week, and each enrollment's first test
    # plans every visit: one range ending at week 10**12 took a worker's memory.
    from django.core.exceptions import ValidationError

    from incentives.schedules import DEMO_SCHEDULE, schedule_create

    fields = {
        **DEMO_SCHEDULE,
        "weeks": [{"first_week": 1, "last_week": 52 * 100, "tests_per_week": 7}],
    }
    with pytest.raises(ValidationError, match="weeks"):
        schedule_create(actor=staff_user("Admin"), **fields)


def test_the_enrolled_person_s_name_is_not_sent_to_the_browser_in_a_cookie(client, staff_user):
    # "Jessica Zyzzlewicz is enrolled" waited for the next page in the messages cookie (signed,
    # not encrypted): PHI in Set-Cookie and Cookie headers, which proxies and tools may log.
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    from tests.factories import ContingencyManagementFactory

    cpss = staff_user("CPSS")
    client.force_login(cpss)
    details = {
        "first_name": "Jessica",
        "last_name": "Zyzzlewicz",
        "date_of_birth": "1992-03-22",
        "enrollment_source": "outpatient",
        "cm_program": str(ContingencyManagementFactory().pk),
        "cpss_provider": str(cpss.cm_provider.pk),
        "submission_key": "k" * 24,
    }
    client.post(reverse("cm:enroll-new"), {**details, "action": "check"})
    response = client.post(
        reverse("cm:enroll-new"), {**details, "action": "confirm", "person": "new"}
    )
    assert response.status_code == 302
    cookies = [CookieStorage(HttpRequest())._decode(c.value) for c in response.cookies.values()]
    assert "Zyzzlewicz" not in str(cookies)
