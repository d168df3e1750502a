"""Every URL of the project × every role, against the expected-access table below.

A URL pattern with no rule here fails ``test_every_url_pattern_has_an_access_rule``: adding a
page means deciding who may see it. Admin URLs are covered by family (index, per-model pages)
and sampled per registered model; an admin URL outside the known families fails too.
"""

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from staff.services import totp_device_get_or_create
from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    LinkProposalFactory,
    PatientCanonicalFactory,
    PatientIntakeQLinkFactory,
    SupervisorRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ANONYMOUS, CPSS, SUPERVISOR, PSYCHIATRY, ADMIN = (
    "anonymous",
    "CPSS",
    "CPSS Supervisor",
    "Psychiatry",
    "Admin",
)
ROLES = [ANONYMOUS, CPSS, SUPERVISOR, PSYCHIATRY, ADMIN]
STAFF = {CPSS, SUPERVISOR, PSYCHIATRY, ADMIN}
EVERYONE = {ANONYMOUS} | STAFF


@dataclass(frozen=True)
class Rule:
    allowed: frozenset
    method: str = "get"
    kwargs: tuple = ()  # URL kwargs, as names of objects made by the `objects` fixture
    ok_status: int = 200


def rule(allowed, **options):
    return Rule(allowed=frozenset(allowed), **options)


# The expected-access table: URL name -> who may open it.
RULES = {
    "home": rule(STAFF),
    # Load balancers and the container probe it signed out; it tells only that the site is up.
    "healthz": rule(EVERYONE),
    "login": rule(EVERYONE),
    "logout": rule(EVERYONE, method="post", ok_status=302),
    "two-factor": rule(STAFF),
    # CPSS pages. The patient in `objects` is on another CPSS's caseload: a CPSS gets a 404.
    "cm:patient-list": rule({CPSS, SUPERVISOR, ADMIN}),
    # The list's CSV export is for supervisors (view_all_cm_patients) and admins.
    "cm:patient-list-export": rule({SUPERVISOR, ADMIN}),
    "cm:enroll-new": rule({CPSS, SUPERVISOR, ADMIN}),
    "cm:enroll-existing": rule({CPSS, SUPERVISOR, ADMIN}),
    "cm:patient-detail": rule(
        {SUPERVISOR, ADMIN}, kwargs=(("canonical_patient_id", "canonical_patient"),)
    ),
    "cm:patient-edit": rule(
        {SUPERVISOR, ADMIN}, kwargs=(("canonical_patient_id", "canonical_patient"),)
    ),
    "cm:enrollment-status": rule({SUPERVISOR, ADMIN}, kwargs=(("enrollment_id", "enrollment"),)),
    "cm:enrollment-pod": rule({SUPERVISOR, ADMIN}, kwargs=(("enrollment_id", "enrollment"),)),
    # Reassigning a CPSS is the supervisor's (and admin's) job; a CPSS gets 403.
    "cm:enrollment-reassign": rule({SUPERVISOR, ADMIN}, kwargs=(("enrollment_id", "enrollment"),)),
    # Issue 12: a supervisor's reactivation / re-enrollment, 30-day undo of a final status,
    # identity correction and caseload move; a CPSS's one-click request (POST, own caseload).
    "cm:enrollment-reactivate": rule(
        {SUPERVISOR, ADMIN}, kwargs=(("enrollment_id", "enrollment"),)
    ),
    "cm:enrollment-undo-final": rule(
        {SUPERVISOR, ADMIN}, kwargs=(("enrollment_id", "enrollment"),)
    ),
    "cm:enrollment-reactivation-request": rule(
        {SUPERVISOR, ADMIN},
        method="post",
        ok_status=303,
        kwargs=(("enrollment_id", "enrollment"),),
    ),
    "cm:patient-correct": rule(
        {SUPERVISOR, ADMIN}, kwargs=(("canonical_patient_id", "canonical_patient"),)
    ),
    "cm:caseload-move": rule({SUPERVISOR, ADMIN}),
    # The queue of requests waiting for a supervisor (decide_supervisorrequest).
    "cm:supervisor-requests": rule({SUPERVISOR, ADMIN}),
    "cm:supervisor-request": rule(
        {SUPERVISOR, ADMIN}, kwargs=(("request_id", "supervisor_request"),)
    ),
    # Each program's list of pods (issue 12): supervisors manage it.
    "cm:pods": rule({SUPERVISOR, ADMIN}),
    # Psychiatry's pages.
    "intakeq:patient-list": rule({PSYCHIATRY, ADMIN}),
    "intakeq:patient-detail": rule({PSYCHIATRY, ADMIN}, kwargs=(("pk", "intakeq_patient"),)),
    "audit:patient-history": rule({ADMIN}, kwargs=(("pk", "canonical_patient"),)),
    "complete-patient-view": rule({ADMIN}, kwargs=(("pk", "canonical_patient"),)),
    "dual-enrollment-report": rule({ADMIN}),
    "dual-enrollment-report-csv": rule({ADMIN}),
    # Identity stewardship pages in the admin (issue 13): the Admin group only.
    "admin:identity_patientcanonical_merge": rule(
        {ADMIN},
        kwargs=(("keep_id", "canonical_patient"), ("merge_id", "other_canonical_patient")),
    ),
    "admin:identity_patientcanonical_correct": rule({ADMIN}, kwargs=(("pk", "canonical_patient"),)),
    "admin:identity_canonicalmerge_unmerge": rule({ADMIN}, kwargs=(("pk", "merge_record"),)),
    "admin:identity_duplicateproposal_decide": rule(
        {ADMIN}, kwargs=(("pk", "duplicate_proposal"),)
    ),
    "admin:intakeq_link_linkproposal_decide": rule({ADMIN}, kwargs=(("pk", "link_proposal"),)),
    # Unlinking with a reason, kept in the link history (issue 12).
    "admin:intakeq_link_patientintakeqlink_unlink": rule({ADMIN}, kwargs=(("pk", "link"),)),
    # Incentives (issue #14): CM data's rules. The participant in `objects` is on another CPSS's
    # caseload, so a CPSS gets a 404 on their pages; corrections are the supervisor's.
    "incentives:day": rule({CPSS, SUPERVISOR, ADMIN}),
    "incentives:visit-record": rule({SUPERVISOR, ADMIN}, kwargs=(("visit_id", "open_visit"),)),
    "incentives:visit-excuse": rule({SUPERVISOR, ADMIN}, kwargs=(("visit_id", "open_visit"),)),
    "incentives:participant": rule({SUPERVISOR, ADMIN}, kwargs=(("enrollment_id", "enrollment"),)),
    "incentives:statement": rule({SUPERVISOR, ADMIN}, kwargs=(("enrollment_id", "enrollment"),)),
    "incentives:issue": rule({SUPERVISOR, ADMIN}, kwargs=(("pk", "enrollment"),)),
    "incentives:test-correct": rule({SUPERVISOR, ADMIN}, kwargs=(("pk", "drug_test"),)),
    "incentives:entry-void": rule({SUPERVISOR, ADMIN}, kwargs=(("pk", "issued_entry"),)),
    "incentives:schedule-list": rule({ADMIN}),
    "incentives:schedule-new": rule({ADMIN}),
    "incentives:schedule-detail": rule({ADMIN}, kwargs=(("pk", "incentive_schedule"),)),
    "incentives:report": rule({SUPERVISOR, ADMIN}),
    "incentives:report-csv": rule({SUPERVISOR, ADMIN}),
}

# Admin URLs: the whole site is for the Admin group (with a verified second factor).
ADMIN_SITE_NAMES = re.compile(
    r"^admin:(index|login|logout|password_change|password_change_done|jsi18n|autocomplete|"
    r"view_on_site|app_list)$"
)
ADMIN_MODEL_PAGES = ("changelist", "add", "history", "delete", "change")
# Extra admin pages some ModelAdmins add: Admin group only, like the rest of the site.
ADMIN_EXTRA_PAGES = {
    "admin:auth_user_password_change",
}


def _walk(resolver, prefix="", namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield name, prefix + str(pattern.pattern)


def _admin_model_page_names():
    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
        for model in admin.site._registry
        for page in ADMIN_MODEL_PAGES
    }


def _is_admin_unnamed(name, route):
    """The admin's two unnamed patterns: the catch-all, and each model's old-style change URL
    (a redirect to the change page, so covered by the change page's rule)."""
    if name is not None:
        return False
    if route.startswith("admin/") and "(?P<url>.*)" in route:
        return True
    return route in {
        f"admin/{model._meta.app_label}/{model._meta.model_name}/<path:object_id>/"
        for model in admin.site._registry
    }


def test_every_url_pattern_has_an_access_rule():
    model_pages = _admin_model_page_names()
    uncovered = [
        (name, route)
        for name, route in _walk(get_resolver())
        if not (
            name in RULES
            or (name and ADMIN_SITE_NAMES.match(name))
            or name in model_pages
            or name in ADMIN_EXTRA_PAGES
            or _is_admin_unnamed(name, route)
        )
    ]
    assert uncovered == []


def test_a_new_url_without_a_rule_is_caught(monkeypatch):
    monkeypatch.setattr(
        "tests.test_permission_matrix._walk",
        lambda resolver: [("reports:new-page", "reports/new/")],
    )
    with pytest.raises(AssertionError):
        test_every_url_pattern_has_an_access_rule()


@pytest.fixture
def objects():
    enrollment = EnrollmentFactory()
    link = PatientIntakeQLinkFactory(canonical_patient=enrollment.canonical_patient)
    from identity.models import CanonicalMerge, DuplicateProposal

    pair = sorted(PatientCanonicalFactory.create_batch(2), key=lambda p: str(p.pk))
    merged = PatientCanonicalFactory(merged_into=pair[0])
    return {
        "enrollment": enrollment,
        "canonical_patient": enrollment.canonical_patient,
        "other_canonical_patient": pair[1],
        "intakeq_patient": IntakeQPatientFactory(),
        "linked_intakeq_patient": link.intakeq_patient,
        "link": link,
        "supervisor_request": SupervisorRequestFactory(possible_match=enrollment.canonical_patient),
        "link_proposal": LinkProposalFactory(),
        "duplicate_proposal": DuplicateProposal.objects.create(
            first=pair[0], second=pair[1], score="0.90"
        ),
        "merge_record": CanonicalMerge.objects.create(
            keep=pair[0], merged=merged, actor=UserFactory(), reason="Two charts"
        ),
        **incentive_objects(enrollment),
    }


def incentive_objects(enrollment) -> dict:
    """A published schedule, a recorded test, an open visit and an issued entry."""
    from incentives import services
    from incentives.models import ScheduledVisit
    from incentives.schedules import schedule_demo_publish

    actor = UserFactory()
    schedule = schedule_demo_publish(actor=actor)
    recorded = services.drug_test_record(
        enrollment=enrollment, actor=actor, collected_at=timezone.now(), result="negative"
    )
    issued = services.incentive_issue(
        enrollment=enrollment, actor=actor, points=1, method="voucher", reference="V-1"
    )
    return {
        "incentive_schedule": schedule,
        "drug_test": recorded.test,
        "open_visit": ScheduledVisit.objects.filter(enrollment=enrollment, status="planned")
        .order_by("week", "slot")
        .first(),
        "issued_entry": issued,
    }


@pytest.fixture
def as_role(client, staff_user):
    def sign_in(role):
        if role != ANONYMOUS:
            client.force_login(staff_user(role))
        return client

    return sign_in


def _outcome(response, ok_status):
    """'allowed', or 'denied' for a refusal that reveals nothing (403, 404, to a login page)."""
    if response.status_code == ok_status and (ok_status != 302 or "login" in response.url):
        return "allowed"
    if response.status_code in (403, 404):
        return "denied"
    if response.status_code == 302 and (
        response.url.startswith(reverse(settings.LOGIN_URL))
        or response.url.startswith(reverse("admin:login"))
    ):
        return "denied"
    return f"unexpected {response.status_code}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(RULES))
def test_page_access_matches_the_table(name, role, as_role, objects):
    page_rule = RULES[name]
    url = reverse(name, kwargs={k: objects[v].pk for k, v in page_rule.kwargs})
    client = as_role(role)
    response = getattr(client, page_rule.method)(url)
    expected = "allowed" if role in page_rule.allowed else "denied"
    assert _outcome(response, page_rule.ok_status) == expected


@pytest.mark.parametrize("role", ROLES)
def test_admin_site_is_for_the_admin_group_only(role, as_role, objects):
    client = as_role(role)
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        urls.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    urls.append(
        reverse("admin:identity_patientcanonical_change", args=[objects["canonical_patient"].pk])
    )
    other = UserFactory()
    device = totp_device_get_or_create(user=other)
    urls.append(reverse("admin:auth_user_password_change", args=[other.pk]))
    urls.append(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    expected = "allowed" if role == ADMIN else "denied"
    outcomes = {url: _outcome(client.get(url), 200) for url in urls}
    assert outcomes == dict.fromkeys(urls, expected)


@pytest.mark.parametrize(
    "name", ["cm:patient-detail", "cm:patient-edit", "cm:enrollment-status", "cm:enrollment-pod"]
)
def test_cpss_opens_their_own_patient_and_gets_404_for_another_caseload(name, client, staff_user):
    cpss = staff_user(CPSS)
    mine = EnrollmentFactory(cpss_provider=cpss.cm_provider)
    theirs = EnrollmentFactory()
    client.force_login(cpss)

    def url(enrollment):
        if name.startswith("cm:enrollment-"):
            return reverse(name, kwargs={"enrollment_id": enrollment.pk})
        return reverse(name, kwargs={"canonical_patient_id": enrollment.canonical_patient_id})

    assert client.get(url(mine)).status_code == 200
    assert client.get(url(theirs)).status_code == 404
