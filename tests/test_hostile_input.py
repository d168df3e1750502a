"""Hostile input never gets a 500: NUL bytes, 10,000 characters, an RTL override and a lone
surrogate, in every form and GET parameter of every page each role may open, the admin's
searches, list filters and add forms included. The test client re-raises a view's exception,
so a crash fails the test as surely as a 500."""

from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.urls import reverse

from identity.models import PatientCanonical
from tests import test_permission_matrix
from tests.factories import PatientCanonicalFactory
from tests.test_permission_matrix import ANONYMOUS, ROLES, RULES

pytestmark = pytest.mark.django_db

# The permission matrix's patient, enrollment and IntakeQ patient (a fixture).
objects = test_permission_matrix.objects

HOSTILE = {
    "nul": "Smith\x00",
    "long": "x" * 10_000,
    "rtl-override": "\u202eevil\u202c",
    "lone-surrogate": "a\ud800b",
}
# Query-string and form parameters that pages read outside their forms.
GET_PARAMETERS = ("search", "page", "per_page", "intakeq_patient", "next", "q", "o", "p")


def _encode(pairs) -> str:
    """A query string or form body as raw bytes would send it, lone surrogates included."""
    return "&".join(
        f"{quote(k)}={quote(str(v).encode('utf-8', 'surrogatepass'))}" for k, v in pairs
    )


class _Forms(HTMLParser):
    """The forms of a page: method, action, and each field's name and (hidden) value."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"method": (attributes.get("method") or "get").lower(),
                 "action": attributes.get("action") or "", "fields": []}
            )  # fmt: skip
        elif tag in ("input", "select", "textarea") and self.forms and attributes.get("name"):
            hidden = attributes.get("type") == "hidden"
            self.forms[-1]["fields"].append((attributes["name"], hidden, attributes.get("value")))


def _forms(html):
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _fill(form, value):
    return [
        (name, original if hidden else value)
        for name, hidden, original in form["fields"]
        if name != "csrfmiddlewaretoken"
    ]


def _send_hostile(client, url, value):
    """GET the page with hostile parameters, then submit each of its forms filled with them.
    Returns the status codes seen."""
    statuses = [client.get(f"{url}?{_encode((p, value) for p in GET_PARAMETERS)}").status_code]
    page = client.get(url)
    if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
        return statuses
    for form in _forms(page.content.decode()):
        target = form["action"] or url
        if target in (reverse("logout"), reverse("admin:logout")):
            continue
        body = _encode(_fill(form, value))
        if form["method"] == "post":
            response = client.post(target, body, content_type="application/x-www-form-urlencoded")
        else:
            response = client.get(f"{target}?{body}")
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("role", ROLES)
def test_no_page_a_role_opens_fails_on_hostile_input(role, value, client, staff_user, objects):
    if role != ANONYMOUS:
        client.force_login(staff_user(role))
    statuses = {}
    for name, page_rule in sorted(RULES.items()):
        if role not in page_rule.allowed or page_rule.method != "get":
            continue
        url = reverse(name, kwargs={k: objects[v].pk for k, v in page_rule.kwargs})
        statuses[name] = _send_hostile(client, url, value)
    assert {name: s for name, s in statuses.items() if 500 in s} == {}


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_no_admin_changelist_or_add_form_fails_on_hostile_input(value, client, staff_user):
    PatientCanonicalFactory()
    client.force_login(staff_user("Admin"))
    failures = []
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{prefix}_changelist")
        page = client.get(changelist)
        parameters = {"q", "o", "p"}
        for spec in page.context_data["cl"].filter_specs:
            parameters |= set(spec.expected_parameters())
        for parameter in sorted(parameters):
            response = client.get(f"{changelist}?{_encode([(parameter, value)])}")
            if response.status_code >= 500:
                failures.append((changelist, parameter))
        add = reverse(f"{prefix}_add")
        form = client.get(add)
        if form.status_code == 200:
            statuses = _send_hostile(client, add, value)
            if 500 in statuses:
                failures.append((add, statuses))
    assert failures == []


def test_a_nul_byte_in_the_psychiatry_search_is_a_form_error(client, staff_user):
    client.force_login(staff_user("Psychiatry"))
    response = client.post(reverse("intakeq:patient-list"), {"q": "Smith\x00"}, follow=True)
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_a_nul_byte_in_an_admin_list_filter_is_a_bad_request(client, staff_user):
    client.force_login(staff_user("Admin"))
    url = reverse("admin:cm_program_enrollment_changelist")
    assert client.get(f"{url}?status=active%00").status_code == 400
    assert client.get(f"{url}?q=Smith%00").status_code == 400


def test_a_ten_thousand_character_username_is_a_form_error(client):
    response = client.post(reverse("login"), {"username": "a" * 10_000, "password": "x"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()


def test_admin_add_of_a_person_differing_only_in_case_and_accents_is_a_form_error(
    client, staff_user
):
    PatientCanonicalFactory(first_name="José", last_name="Martínez", date_of_birth="1990-01-01")
    client.force_login(staff_user("Admin"))
    response = client.post(
        reverse("admin:identity_patientcanonical_add"),
        {"first_name": "jose", "last_name": "MARTINEZ", "date_of_birth": "1990-01-01"},
    )
    assert response.status_code == 200
    assert "already recorded" in response.content.decode()
    assert PatientCanonical.objects.count() == 1
