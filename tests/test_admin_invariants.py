"""The admin cannot bypass the rules (issue 12): every model's change form is driven with the
rule-carrying fields tampered, then the invariants are checked."""

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from cm_program.models import Enrollment, EnrollmentStatusChange, ParticipationStatus, PatientCM
from cm_program.services import cm_patient_enroll_new, enrollment_status_change
from identity.models import PatientCanonical
from intakeq_link.models import LinkHistory, PatientIntakeQLink
from providers.models import ProviderCM
from tests.factories import (
    ContingencyManagementFactory,
    CPSSFactory,
    LinkProposalFactory,
    PatientIntakeQLinkFactory,
    UserFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db

# What an attacker of the rules would post to any change form, field or no field.
TAMPERED = {
    "status": "withdrawn",
    "cpss_provider": "",
    "total_points": "999",
    "current_streak": "99",
    "first_name": "Changed",
    "last_name": "Changed",
    "date_of_birth": "1900-01-01",
    "max_caseload": "0",
    "canonical_patient": "",
    "intakeq_patient": "",
    "cm_program": "",
}


class FormFields(HTMLParser):
    """The values a browser would submit from the admin's change form."""

    def __init__(self):
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._in_form = False
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form or "name" not in a and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.data.append(
                    (a["name"], a.get("value") or ("on" if kind == "checkbox" else ""))
                )
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.data.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data.append((a["name"], ""))

    def handle_data(self, data):
        if self._textarea and self.data and self.data[-1][0] == self._textarea:
            self.data[-1] = (self._textarea, self.data[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_on(client, url) -> dict:
    fields = FormFields()
    fields.feed(client.get(url).content.decode())
    return dict(fields.data)


def commit_point():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def snapshot():
    return {
        "enrollments": set(
            Enrollment.objects.values_list(
                "pk", "status", "cpss_provider_id", "total_points", "current_streak"
            )
        ),
        "cm_status": set(PatientCM.objects.values_list("pk", "status")),
        "identities": set(
            PatientCanonical.objects.values_list("pk", "first_name", "last_name", "date_of_birth")
        ),
        "links": set(
            PatientIntakeQLink.objects.values_list("canonical_patient_id", "intakeq_patient_id")
        ),
    }


def assert_invariants():
    commit_point()
    for cm_patient in PatientCM.objects.prefetch_related("enrollments"):
        statuses = {e.status for e in cm_patient.enrollments.all()}
        if statuses:
            expected = ParticipationStatus.summary(statuses)
            assert cm_patient.status == expected, cm_patient.pk
    for enrollment in Enrollment.objects.all():
        last = EnrollmentStatusChange.objects.filter(enrollment=enrollment).order_by("-changed_at")[
            0
        ]
        assert last.to_status == enrollment.status, enrollment.pk
    for provider in ProviderCM.objects.exclude(max_caseload__isnull=True):
        assert provider.max_caseload >= provider.enrollments.filter(status="active").count()


@pytest.fixture
def people(db):
    """Rows made the way the staff pages make them."""
    actor = admin_user()
    program = ContingencyManagementFactory()
    cpss = CPSSFactory(max_caseload=5)
    enrolled = [
        cm_patient_enroll_new(
            actor=actor,
            first_name="Ada",
            last_name=f"Person{n}",
            date_of_birth=datetime.date(1990, 1, n + 1),
            cm_data={"enrollment_source": "referral"},
            cm_program=program,
            cpss_provider=cpss,
        ).enrollment
        for n in range(3)
    ]
    enrollment_status_change(
        enrollment=enrolled[1], to_status="paused", reason="Travelling", actor=actor
    )
    PatientIntakeQLinkFactory(canonical_patient=enrolled[0].canonical_patient)
    LinkProposalFactory()
    return actor


def test_no_change_form_in_the_admin_can_break_the_rules(client, people):
    client.force_login(people)
    before = snapshot()
    driven = 0
    for model in admin.site._registry:
        opts = model._meta
        for pk in model._default_manager.values_list("pk", flat=True)[:3]:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            page = client.get(url)
            assert page.status_code in (200, 302, 403, 404), url
            if page.status_code != 200:
                continue
            fields = FormFields()
            fields.feed(page.content.decode())
            data = dict(fields.data)
            data.update(TAMPERED)
            data["_save"] = "Save"
            response = client.post(url, data)
            assert response.status_code in (200, 302, 403), url
            driven += 1
            assert_invariants()
    after = snapshot()
    assert after == before
    assert driven >= 5


def test_lowering_a_maximum_caseload_below_the_active_count_says_how_many_are_active(
    client, people
):
    cpss = Enrollment.objects.first().cpss_provider
    client.force_login(people)
    url = reverse("admin:providers_providercm_change", args=[cpss.pk])

    response = client.post(url, {**form_on(client, url), "max_caseload": "1", "_save": "Save"})

    assert response.status_code == 200
    assert "has 2 active enrollments" in response.content.decode()
    cpss.refresh_from_db()
    assert cpss.max_caseload == 5


def test_enrollments_are_not_added_in_the_admin(client, people):
    client.force_login(people)

    response = client.get(reverse("admin:cm_program_enrollment_add"))

    assert response.status_code == 403


def test_the_enrollment_change_page_links_to_the_status_and_reassignment_pages(client, people):
    enrollment = Enrollment.objects.first()
    client.force_login(people)

    body = client.get(
        reverse("admin:cm_program_enrollment_change", args=[enrollment.pk])
    ).content.decode()

    assert reverse("cm:enrollment-status", args=[enrollment.pk]) in body
    assert reverse("cm:enrollment-reassign", args=[enrollment.pk]) in body


def test_the_cm_record_form_saves_only_what_changed_through_the_service(client, people):
    cm_patient = PatientCM.objects.first()
    client.force_login(people)
    url = reverse("admin:cm_program_patientcm_change", args=[cm_patient.pk])

    response = client.post(url, {**form_on(client, url), "medicaid_id": "MC-1", "_save": "Save"})

    assert response.status_code == 302
    cm_patient.refresh_from_db()
    assert (cm_patient.medicaid_id, cm_patient.enrollment_source) == ("MC-1", "referral")


def test_the_enrollment_form_offers_only_its_programs_pods(client, people):
    enrollment = Enrollment.objects.first()
    client.force_login(people)

    form = (
        client.get(reverse("admin:cm_program_enrollment_change", args=[enrollment.pk]))
        .context["adminform"]
        .form
    )

    assert [value for value, _ in form.fields["pod_assignment"].choices] == ["", "Pod A", "Pod B"]


def test_unlinking_in_the_admin_asks_a_reason_and_keeps_it_in_the_link_history(client, people):
    link = PatientIntakeQLink.objects.get()
    client.force_login(people)
    url = reverse("admin:intakeq_link_patientintakeqlink_unlink", args=[link.pk])

    refused = client.post(url, {"reason": ""})
    response = client.post(url, {"reason": "Linked to the wrong chart"})

    assert refused.status_code == 200
    assert response.status_code == 302
    assert not PatientIntakeQLink.objects.exists()
    assert LinkHistory.objects.filter(action="unlinked").get().reason == "Linked to the wrong chart"


def test_a_user_whose_name_is_in_a_history_cannot_be_deleted_only_deactivated(client, people):
    """Deleting them would rewrite append-only rows (changed_by set to NULL): the admin refuses,
    naming what keeps them, instead of failing in the database."""
    author = UserFactory()
    enrollment_status_change(
        enrollment=Enrollment.objects.filter(status="paused").get(),
        to_status="active",
        reason="Back",
        actor=author,
    )
    client.force_login(people)
    url = reverse("admin:auth_user_delete", args=[author.pk])

    page = client.get(url)
    response = client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert "protected" in page.content.decode().lower()
    assert response.status_code == 200
    assert get_user_model().objects.filter(pk=author.pk).exists()
