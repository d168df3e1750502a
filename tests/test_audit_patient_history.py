"""A person's change history: drug tests, the incentive ledger, supervisor requests and merges,
each row with when, who, what and why, limited to the enrollments the reader may see."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.selectors import patient_change_history
from cm_program.models import SupervisorRequest
from identity.services import canonical_patients_merge, canonical_patients_unmerge
from incentives import services
from incentives.schedules import schedule_create, schedule_publish
from tests.factories import (
    CPSSFactory,
    EnrollmentFactory,
    PatientCanonicalFactory,
    SupervisorRequestFactory,
    UserFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db

WEEKS = [{"first_week": 1, "last_week": 4, "tests_per_week": 2}]


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def actor():
    return UserFactory(username="the-cpss")


@pytest.fixture
def schedule(actor):
    draft = schedule_create(
        actor=actor, name="Test schedule", weeks=WEEKS, base_points=10, max_points=30
    )
    return schedule_publish(schedule=draft, actor=actor)


@pytest.fixture
def enrollment(schedule):
    return EnrollmentFactory(enrollment_date=days_ago(28))


def record_test(enrollment, actor, days, result="negative"):
    return services.drug_test_record(
        enrollment=enrollment, actor=actor, collected_at=days_ago(days), result=result
    ).test


def history_of(enrollment, **kwargs):
    return patient_change_history(canonical_patient_id=enrollment.canonical_patient_id, **kwargs)


def whats(records, table):
    return [r.what for r in records if r.table == table]


def test_a_drug_test_and_its_correction_are_in_the_history_with_the_reason(enrollment, actor):
    first = record_test(enrollment, actor, 27)
    services.drug_test_correct(
        test=first, actor=actor, result="positive", reason="Lab confirmation"
    )

    records = [r for r in history_of(enrollment) if r.table == "cm_drug_tests"]

    assert [r.what for r in records] == [
        "Drug test corrected: Positive (replaces an earlier result)",
        "Drug test recorded: Negative",
    ]
    assert records[0].reason == "Lab confirmation"


def test_ledger_entries_earned_issued_and_voided_are_in_the_history(enrollment, actor):
    record_test(enrollment, actor, 27)
    issued = services.incentive_issue(
        enrollment=enrollment, actor=actor, points=10, method="gift_card", reference="GC-1"
    )
    services.ledger_entry_void(entry=issued, actor=actor, reason="Card not handed over")

    records = [r for r in history_of(enrollment) if r.table == "cm_incentive_ledger"]

    assert sorted(r.what for r in records) == [
        "Incentive ledger: Earned +10 points",
        "Incentive ledger: Issued +10 points (gift card)",
        "Incentive ledger: Void -10 points",
    ]
    assert next(r for r in records if "Void" in r.what).reason == "Card not handed over"


def test_a_supervisor_request_and_its_decision_are_in_the_history(enrollment):
    supervisor = UserFactory(username="the-supervisor")
    request = SupervisorRequestFactory(
        kind="reactivation", enrollment=enrollment, reason="Caseload full"
    )
    SupervisorRequest.objects.filter(pk=request.pk).update(
        status="declined",
        decided_by=supervisor,
        decided_at=timezone.now(),
        decision_note="No CPSS has room this month",
    )

    records = [r for r in history_of(enrollment) if r.table == "cm_supervisor_requests"]

    assert [(r.what, r.reason) for r in records] == [
        ("Supervisor decision: Not enrolled", "No CPSS has room this month"),
        (
            "Request for a supervisor: Reactivation on a full caseload",
            "Caseload full",
        ),
    ]


def test_an_enrollment_request_naming_the_person_as_possible_match_is_in_their_history():
    person = PatientCanonicalFactory()
    SupervisorRequestFactory(possible_match=person, reason="Same name and birthday")

    records = patient_change_history(canonical_patient_id=person.pk, user=admin_user())

    assert whats(records, "cm_supervisor_requests") == [
        "Request for a supervisor: Enrollment of a possible match"
    ]


def test_a_merge_and_its_unmerge_are_in_the_history_of_both_people():
    actor = admin_user()
    keep = PatientCanonicalFactory(first_name="Jessica", last_name="Kept")
    merged = PatientCanonicalFactory(first_name="Jess", last_name="Merged")
    record = canonical_patients_merge(keep=keep, merge=merged, actor=actor, reason="Same person")
    canonical_patients_unmerge(merge_record=record, actor=actor, reason="Twins after all")

    for person in (keep, merged):
        records = [
            r
            for r in patient_change_history(canonical_patient_id=person.pk, user=actor)
            if r.table == "patients_canonical_merge"
        ]
        assert [(r.what, r.reason) for r in records] == [
            ("Unmerged: Jess Merged from Jessica Kept", "Twins after all"),
            ("Merged: Jess Merged into Jessica Kept", "Same person"),
        ]


def test_a_cpss_reading_the_history_never_gets_another_caseloads_enrollment_rows(actor, schedule):
    mine, theirs = CPSSFactory(), CPSSFactory()
    person = PatientCanonicalFactory()
    my_enrollment = EnrollmentFactory(
        canonical_patient=person, cpss_provider=mine, enrollment_date=days_ago(28)
    )
    their_enrollment = EnrollmentFactory(
        canonical_patient=person, cpss_provider=theirs, enrollment_date=days_ago(28)
    )
    record_test(my_enrollment, actor, 27)
    record_test(their_enrollment, actor, 26, result="positive")
    SupervisorRequestFactory(kind="reactivation", enrollment=their_enrollment, reason="Full")

    records = patient_change_history(canonical_patient_id=person.pk, user=mine.user)

    assert whats(records, "cm_drug_tests") == ["Drug test recorded: Negative"]
    assert whats(records, "cm_supervisor_requests") == []
    assert {r.object_id for r in records if r.table == "cm_enrollments"} == {my_enrollment.pk}


def test_the_history_page_shows_what_and_why_in_words(client, enrollment, actor):
    first = record_test(enrollment, actor, 27)
    services.drug_test_correct(
        test=first, actor=actor, result="positive", reason="Lab confirmation"
    )
    client.force_login(admin_user())

    body = client.get(
        reverse("audit:patient-history", args=[enrollment.canonical_patient_id])
    ).content.decode()

    assert "Drug test corrected: Positive (replaces an earlier result)" in body
    assert "Lab confirmation" in body


@pytest.mark.parametrize("group", ["CPSS", "CPSS Supervisor", "Psychiatry"])
def test_only_admins_open_the_history_page(client, staff_user, enrollment, group):
    client.force_login(staff_user(group))

    response = client.get(reverse("audit:patient-history", args=[enrollment.canonical_patient_id]))

    assert response.status_code == 403
    assert enrollment.canonical_patient.last_name not in response.content.decode()


def _one_of_each(enrollment, actor, days):
    first = record_test(enrollment, actor, days)
    services.drug_test_correct(test=first, actor=actor, result="positive", reason="Lab")
    record_test(enrollment, actor, days - 4)
    issued = services.incentive_issue(
        enrollment=enrollment, actor=actor, points=5, method="gift_card", reference=f"GC-{days}"
    )
    services.ledger_entry_void(entry=issued, actor=actor, reason="Not handed over")
    SupervisorRequestFactory(possible_match=enrollment.canonical_patient, reason="Match")
    canonical_patients_merge(
        keep=enrollment.canonical_patient,
        merge=PatientCanonicalFactory(),
        actor=admin_user(),
        reason="Same person",
    )


def test_the_history_page_reads_a_fixed_number_of_queries_whatever_the_rows(
    client, enrollment, actor, django_assert_num_queries
):
    client.force_login(admin_user())
    url = reverse("audit:patient-history", args=[enrollment.canonical_patient_id])
    # The session's first page writes it; later pages do not. Its pghistory context stays on
    # the test's transaction, so every row below names a user, as rows written by pages do.
    client.get(url)
    _one_of_each(enrollment, actor, 27)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    for days in (20, 13, 6):
        _one_of_each(enrollment, actor, days)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)

    assert response.content.decode().count("Drug test corrected") == 4
