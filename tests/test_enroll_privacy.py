"""Issue 11, H1 and M1: the enrollment pages show a CPSS only people they may see, and a person
in the CM program on another caseload is enrolled only by a supervisor, through their queue."""

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from access_log.models import PatientAccessLog
from audit.models import SupervisorRequestEvent
from cm_program import services, supervisor_requests
from cm_program.models import Enrollment, FormSubmission, PatientCM, SupervisorRequest
from identity.models import PatientCanonical
from intakeq_link.models import LinkProposal, PatientIntakeQLink
from tests.factories import (
    ContingencyManagementFactory,
    CPSSFactory,
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCanonicalFactory,
    PatientIntakeQLinkFactory,
    StaffUserFactory,
    SupervisorRequestFactory,
)

pytestmark = pytest.mark.django_db

DOB = datetime.date(1992, 3, 22)


@pytest.fixture
def cpss(client):
    provider = CPSSFactory()
    client.force_login(provider.user)
    return provider


@pytest.fixture
def theirs():
    """Jessica Martinez, on another CPSS's caseload, with a CM record."""
    # Closed to new enrollments, so no form lists it: only a leak would show its name.
    other_program = ContingencyManagementFactory(name="Opioid CM", is_active=False)
    return EnrollmentFactory(
        cm_program=other_program,
        cpss_provider=CPSSFactory(),
        cm_patient__medicaid_id="MCD-SECRET-1",
        cm_patient__canonical_patient=PatientCanonicalFactory(
            first_name="Jessica", last_name="Martinez", date_of_birth=DOB
        ),
    ).canonical_patient


def _post(program, cpss, **overrides):
    data = {
        "first_name": "Jessica",
        "last_name": "Martinez",
        "date_of_birth": "1992-03-22",
        "phone": "801.555.0123",
        "enrollment_source": "acute_care",
        "address_state": "UT",
        "preferred_language": "English",
        "cm_program": str(program.pk),
        "cpss_provider": str(cpss.pk),
        "submission_key": uuid.uuid4().hex,
        "action": "check",
    }
    return {**data, **overrides}


def _writes():
    return (
        PatientCanonical.objects.count(),
        PatientCM.objects.count(),
        Enrollment.objects.count(),
        PatientIntakeQLink.objects.count(),
        FormSubmission.objects.count(),
        SupervisorRequest.objects.count(),
    )


def _page(response):
    """The page without its per-request tokens, to compare two answers."""
    html = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


# --- H1: the review step ---------------------------------------------------------------------


def test_the_review_step_never_shows_a_person_on_another_caseload(client, cpss, program, theirs):
    response = client.post(reverse("cm:enroll-new"), _post(program, cpss), follow=True)
    html = response.content.decode()
    assert "A possible match exists on another caseload" in html
    assert str(theirs.pk) not in html
    assert "Opioid CM" not in html
    assert "Known to the CM program" not in html
    assert "Mar 22, 1992" in html  # only the typed date, said back to the CPSS once
    assert html.count("Mar 22, 1992") == 1


def test_a_hidden_match_with_a_wrong_date_of_birth_is_not_shown_either(client, cpss, program):
    EnrollmentFactory(
        cm_patient__canonical_patient=PatientCanonicalFactory(
            first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 23)
        )
    )
    html = client.post(reverse("cm:enroll-new"), _post(program, cpss), follow=True).content.decode()
    assert "Mar 23, 1992" not in html
    assert "A possible match exists on another caseload" in html


def test_posting_a_hidden_person_is_refused_exactly_like_an_unknown_id(
    client, cpss, program, theirs
):
    before = _writes()
    data = _post(program, cpss, action="confirm")
    url = reverse("cm:enroll-new")
    hidden = client.post(url, {**data, "person": f"canonical:{theirs.pk}"}, follow=True)
    unknown = client.post(url, {**data, "person": f"canonical:{uuid.uuid4()}"}, follow=True)
    assert hidden.status_code == unknown.status_code == 200
    assert _page(hidden) == _page(unknown)
    assert _writes() == before


def test_a_new_person_cannot_be_chosen_while_a_match_is_hidden(client, cpss, program, theirs):
    before = _writes()
    client.post(reverse("cm:enroll-new"), _post(program, cpss, action="confirm", person="new"))
    assert _writes() == before


def test_a_candidate_below_the_review_score_is_never_shown(client, cpss, program, settings):
    settings.CM_LINK_REVIEW_MIN_SCORE = 0.99
    iq = IntakeQPatientFactory(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
    html = client.post(reverse("cm:enroll-new"), _post(program, cpss), follow=True).content.decode()
    assert str(iq.pk) not in html
    assert "No one on file looks like this person" in html  # the summary, nothing to choose


def test_a_candidate_below_the_review_score_cannot_be_chosen_whatever_is_posted(
    client, cpss, program, settings
):
    settings.CM_LINK_REVIEW_MIN_SCORE = 0.99
    iq = IntakeQPatientFactory(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
    data = _post(program, cpss, action="confirm", person=f"intakeq:{iq.pk}")
    client.post(reverse("cm:enroll-new"), data)
    assert not PatientIntakeQLink.objects.exists()
    assert not Enrollment.objects.exists()


def test_an_intakeq_candidate_at_the_review_score_is_shown(client, cpss, program):
    iq = IntakeQPatientFactory(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
    html = client.post(reverse("cm:enroll-new"), _post(program, cpss), follow=True).content.decode()
    assert f'value="intakeq:{iq.pk}"' in html


def test_a_linked_person_outside_cm_is_offered_as_their_intakeq_record(client, cpss, program):
    link = PatientIntakeQLinkFactory(
        canonical_patient__first_name="Jessica",
        canonical_patient__last_name="Martinez",
        canonical_patient__date_of_birth=DOB,
        intakeq_patient__first_name="Jessica",
        intakeq_patient__last_name="Martinez",
        intakeq_patient__date_of_birth=DOB,
    )
    html = client.post(reverse("cm:enroll-new"), _post(program, cpss), follow=True).content.decode()
    assert f'value="intakeq:{link.intakeq_patient_id}"' in html
    assert f"canonical:{link.canonical_patient_id}" not in html


def test_the_service_refuses_to_enroll_a_person_in_cm_on_another_caseload(cpss, program, theirs):
    before = _writes()
    with pytest.raises(services.NeedsSupervisor):
        services.cm_patient_enroll_new(
            actor=cpss.user,
            first_name="Jessica",
            last_name="Martinez",
            date_of_birth=DOB,
            cm_data={"enrollment_source": "acute_care"},
            cm_program=program,
            cpss_provider=cpss,
            same_person=theirs,
        )
    assert _writes() == before


def test_the_review_step_logs_a_view_of_every_candidate_shown(client, cpss, program):
    iq = IntakeQPatientFactory(first_name="Jess", last_name="Martinez", date_of_birth=DOB)
    client.post(reverse("cm:enroll-new"), _post(program, cpss), follow=True)
    logged = set(PatientAccessLog.objects.values_list("patient_kind", "patient_id"))
    assert logged == {("intakeq", iq.pk)}


# --- H1: the request and the supervisor's queue ----------------------------------------------


def test_sending_a_hidden_match_queues_the_typed_request_and_enrolls_nothing(
    client, cpss, program, theirs
):
    data = _post(program, cpss, action="request_review", pod_assignment="Pod B")
    response = client.post(reverse("cm:enroll-new"), data, follow=True)
    request = SupervisorRequest.objects.get()
    assert (request.first_name, request.last_name, request.date_of_birth) == (
        "Jessica",
        "Martinez",
        DOB,
    )
    assert (request.possible_match_id, request.cm_program, request.cpss_provider) == (
        theirs.pk,
        program,
        cpss,
    )
    assert (request.status, request.requested_by, request.pod_assignment) == (
        "pending",
        cpss.user,
        "Pod B",
    )
    assert Enrollment.objects.filter(cm_program=program).count() == 0
    assert "Sent to a supervisor" in response.content.decode()


def test_a_resent_request_is_queued_once(client, cpss, program, theirs):
    data = _post(program, cpss, action="request_review")
    client.post(reverse("cm:enroll-new"), data)
    client.post(reverse("cm:enroll-new"), data)
    assert SupervisorRequest.objects.count() == 1


@pytest.fixture
def supervisor(client):
    user = StaffUserFactory(group="CPSS Supervisor")
    client.force_login(user)
    return user


@pytest.fixture
def queued(program, theirs):
    cpss = CPSSFactory()
    return SupervisorRequestFactory(
        requested_by=cpss.user,
        first_name="Jessica",
        last_name="Martinez",
        date_of_birth=DOB,
        cm_program=program,
        cpss_provider=cpss,
        possible_match=theirs,
        match_score=Decimal("1.00"),
    )


def test_the_supervisor_queue_lists_pending_requests(client, supervisor, queued):
    html = client.get(reverse("cm:supervisor-requests")).content.decode()
    assert reverse("cm:supervisor-request", kwargs={"request_id": queued.pk}) in html


def test_the_supervisor_sees_the_pair_and_their_programs(client, supervisor, queued, theirs):
    url = reverse("cm:supervisor-request", kwargs={"request_id": queued.pk})
    html = client.get(url).content.decode()
    assert "Opioid CM" in html
    assert f'value="canonical:{theirs.pk}"' in html
    assert PatientAccessLog.objects.filter(patient_id=theirs.pk, user=supervisor).exists()


def test_same_person_enrolls_the_existing_person_onto_the_chosen_caseload(
    client, supervisor, queued, theirs
):
    other_cpss = CPSSFactory()
    url = reverse("cm:supervisor-request", kwargs={"request_id": queued.pk})
    client.post(
        url,
        {
            "decision": f"canonical:{theirs.pk}",
            "cpss_provider": other_cpss.pk,
            "note": "Same DOB and name; confirmed by phone.",
        },
    )
    queued.refresh_from_db()
    assert queued.status == "same_person"
    assert (queued.enrollment.canonical_patient, queued.enrollment.cpss_provider) == (
        theirs,
        other_cpss,
    )
    assert (queued.decided_by, queued.decision_note) == (
        supervisor,
        "Same DOB and name; confirmed by phone.",
    )
    assert PatientCanonical.objects.count() == 1


def test_different_people_creates_the_new_person_and_enrolls_them_as_typed(supervisor, program):
    EnrollmentFactory(
        cm_patient__canonical_patient=PatientCanonicalFactory(
            first_name="Jessica", last_name="Martinez", date_of_birth=datetime.date(1992, 3, 23)
        )
    )
    cpss = CPSSFactory()
    request = SupervisorRequestFactory(
        first_name="Jessica", last_name="Martinez", date_of_birth=DOB, cm_program=program
    )
    supervisor_requests.supervisor_request_enroll_new_person(
        supervisor_request=request, actor=supervisor, cpss_provider=cpss, note="Twin sister."
    )
    request.refresh_from_db()
    person = request.enrollment.canonical_patient
    assert (request.status, person.date_of_birth, request.enrollment.cpss_provider) == (
        "different_people",
        DOB,
        cpss,
    )
    assert PatientCanonical.objects.count() == 2


def test_different_people_is_refused_for_an_identical_identity(supervisor, queued):
    before = _writes()
    with pytest.raises(ValidationError):
        supervisor_requests.supervisor_request_enroll_new_person(
            supervisor_request=queued, actor=supervisor, cpss_provider=CPSSFactory(), note="No."
        )
    assert _writes() == before
    queued.refresh_from_db()
    assert queued.status == "pending"


def test_a_full_caseload_refuses_the_decision_and_leaves_the_request_pending(
    client, supervisor, queued, theirs
):
    full = CPSSFactory(max_caseload=1)
    EnrollmentFactory(cpss_provider=full)
    url = reverse("cm:supervisor-request", kwargs={"request_id": queued.pk})
    response = client.post(
        url,
        {"decision": f"canonical:{theirs.pk}", "cpss_provider": full.pk, "note": "Same."},
        follow=True,
    )
    assert "caseload is full" in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == "pending"
    assert not Enrollment.objects.filter(cpss_provider=full, canonical_patient=theirs).exists()


def test_a_decision_needs_a_note(client, supervisor, queued):
    url = reverse("cm:supervisor-request", kwargs={"request_id": queued.pk})
    response = client.post(url, {"decision": "decline", "note": ""}, follow=True)
    assert "Say why, for the record." in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == "pending"


def test_a_cpss_cannot_decide_a_request(cpss, queued):
    with pytest.raises(PermissionDenied):
        supervisor_requests.supervisor_request_decline(
            supervisor_request=queued, actor=cpss.user, note="Mine now."
        )
    queued.refresh_from_db()
    assert queued.status == "pending"


def test_a_decided_request_cannot_be_changed_or_deleted_in_the_database(supervisor, queued):
    supervisor_requests.supervisor_request_decline(
        supervisor_request=queued, actor=supervisor, note="Already enrolled."
    )
    for statement in (
        "UPDATE cm_supervisor_requests SET status = 'pending', decided_at = NULL",
        "DELETE FROM cm_supervisor_requests",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


def test_every_decision_is_in_the_audit_history(supervisor, queued):
    supervisor_requests.supervisor_request_decline(
        supervisor_request=queued, actor=supervisor, note="Already enrolled."
    )
    labels = list(
        SupervisorRequestEvent.objects.filter(pgh_obj=queued)
        .order_by("pgh_id")
        .values_list("pgh_label", "status")
    )
    assert labels == [("insert", "pending"), ("update", "declined")]


# --- M1: enroll an existing Moonlit patient --------------------------------------------------


@pytest.fixture
def their_iq(theirs):
    return PatientIntakeQLinkFactory(
        canonical_patient=theirs,
        intakeq_patient__first_name="Jessica",
        intakeq_patient__last_name="Martinez",
        intakeq_patient__date_of_birth=DOB,
    ).intakeq_patient


def _search(client):
    query = {"first_name": "Jessica", "last_name": "Martinez", "date_of_birth": "1992-03-22"}
    response = client.post(reverse("cm:enroll-existing"), {**query, "step": "search"}, follow=True)
    return response.content.decode()


def test_search_says_only_another_caseload_for_a_person_the_cpss_cannot_see(client, cpss, their_iq):
    html = _search(client)
    assert "In the CM program on another caseload" in html
    assert "Already in CM" not in html


def test_search_says_already_in_cm_for_the_cpss_own_participant(client, cpss):
    mine = EnrollmentFactory(
        cpss_provider=cpss,
        cm_patient__canonical_patient=PatientCanonicalFactory(
            first_name="Jessica", last_name="Martinez", date_of_birth=DOB
        ),
    )
    PatientIntakeQLinkFactory(
        canonical_patient=mine.canonical_patient,
        intakeq_patient__first_name="Jessica",
        intakeq_patient__last_name="Martinez",
        intakeq_patient__date_of_birth=DOB,
    )
    assert "Already in CM" in _search(client)


def test_search_logs_a_view_of_every_intakeq_row_listed(client, cpss, their_iq):
    _search(client)
    logged = set(PatientAccessLog.objects.values_list("patient_kind", "patient_id"))
    assert logged == {("intakeq", their_iq.pk)}


def test_confirm_names_no_program_of_another_caseload_and_offers_review(client, cpss, their_iq):
    url = reverse("cm:enroll-existing") + f"?intakeq_patient={their_iq.pk}"
    html = client.get(url).content.decode()
    assert "already in the CM program on another caseload" in html
    assert "Opioid CM" not in html
    assert 'value="request_review"' in html


def _existing_post(program, cpss, iq, **overrides):
    data = {
        "intakeq_patient": str(iq.pk),
        "cm_program": str(program.pk),
        "cpss_provider": str(cpss.pk),
        "address_state": "UT",
        "preferred_language": "English",
        "submission_key": uuid.uuid4().hex,
    }
    return {**data, **overrides}


def test_enrolling_a_person_of_another_caseload_from_intakeq_is_refused(
    client, cpss, program, their_iq
):
    before = _writes()
    client.post(reverse("cm:enroll-existing"), _existing_post(program, cpss, their_iq))
    assert _writes() == before


def test_the_offered_review_queues_the_intakeq_record_for_a_supervisor(
    client, cpss, program, theirs, their_iq
):
    data = _existing_post(program, cpss, their_iq, action="request_review")
    client.post(reverse("cm:enroll-existing"), data)
    request = SupervisorRequest.objects.get()
    assert (request.intakeq_patient_id, request.possible_match_id, request.first_name) == (
        their_iq.pk,
        theirs.pk,
        "",
    )
    assert not Enrollment.objects.filter(cm_program=program).exists()


def test_the_supervisor_enrolls_an_intakeq_request(supervisor, program, theirs, their_iq):
    cpss = CPSSFactory()
    request = SupervisorRequestFactory(
        first_name="",
        last_name="",
        date_of_birth=None,
        intakeq_patient=their_iq,
        possible_match=theirs,
        cm_program=program,
    )
    supervisor_requests.supervisor_request_enroll_same_person(
        supervisor_request=request, actor=supervisor, cpss_provider=cpss, note="Same person."
    )
    request.refresh_from_db()
    assert (request.status, request.enrollment.canonical_patient) == ("same_person", theirs)


def test_choosing_a_new_person_on_the_page_queues_the_candidates_it_showed(client, program, cpss):
    # Issue 13, Scenario 1: the CPSS saw a likely IntakeQ match and said "a new person".
    intakeq = IntakeQPatientFactory(first_name="Jessica", last_name="Martinez", date_of_birth=DOB)

    client.post(
        reverse("cm:enroll-new"),
        _post(program, cpss, first_name="Jess", action="confirm", person="new"),
    )

    proposal = LinkProposal.objects.get()
    assert proposal.intakeq_patient_id == intakeq.pk
    assert proposal.canonical_patient.first_name == "Jess"
    assert proposal.status == LinkProposal.Status.PENDING
