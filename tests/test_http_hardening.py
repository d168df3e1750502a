"""HTTP-level hardening: the verbs each page answers and the Content-Security-Policy."""

import base64
import hashlib
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from tests import test_permission_matrix
from tests.test_permission_matrix import ADMIN, ANONYMOUS, RULES

pytestmark = pytest.mark.django_db

# The permission matrix's patient, enrollment and IntakeQ patient (a fixture).
objects = test_permission_matrix.objects


def _role_allowed(page_rule):
    return ADMIN if ADMIN in page_rule.allowed else sorted(page_rule.allowed)[0]


@pytest.mark.parametrize("verb", ["put", "patch", "delete"])
@pytest.mark.parametrize("name", sorted(RULES))
def test_pages_refuse_verbs_they_do_not_use(name, verb, client, staff_user, objects):
    page_rule = RULES[name]
    role = _role_allowed(page_rule)
    if role != ANONYMOUS:
        client.force_login(staff_user(role))
    url = reverse(name, kwargs={k: objects[v].pk for k, v in page_rule.kwargs})
    assert getattr(client, verb)(url).status_code == 405


def _policy(response) -> dict:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_response_carries_a_strict_content_security_policy(client):
    policy = _policy(client.get(reverse("login")))
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


class _InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline scripts, handlers and styles."""

    def __init__(self):
        super().__init__()
        self.found, self.styles, self._in_style = [], [], False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        inline = "src" not in attributes and attributes.get("type") != "application/json"
        if tag == "script" and inline:
            self.found.append("inline <script>")
        for name in attributes:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}=")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _pages(objects):
    patient = objects["canonical_patient"]
    pages = [
        reverse("home"),
        reverse("two-factor"),
        reverse("cm:patient-list"),
        reverse("cm:enroll-new"),
        reverse("cm:enroll-existing"),
        reverse("cm:patient-detail", args=[patient.pk]),
        reverse("cm:patient-edit", args=[patient.pk]),
        reverse("cm:enrollment-status", args=[objects["enrollment"].pk]),
        reverse("intakeq:patient-list"),
        reverse("intakeq:patient-detail", args=[objects["intakeq_patient"].pk]),
        reverse("audit:patient-history", args=[patient.pk]),
        reverse("complete-patient-view", args=[patient.pk]),
        reverse("dual-enrollment-report"),
        reverse("admin:index"),
        reverse("admin:identity_patientcanonical_add"),
        reverse("admin:identity_patientcanonical_change", args=[patient.pk]),
        reverse("admin:identity_patientcanonical_history", args=[patient.pk]),
    ]
    for model in admin.site._registry:
        pages.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    return pages


def test_no_page_needs_inline_script_or_style(client, staff_user, objects):
    allowed_styles = set(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"])
    blocked = {}
    for url in [reverse("login")]:
        parser = _InlineCode()
        parser.feed(client.get(url).content.decode())
        blocked[url] = parser.found
    client.force_login(staff_user(ADMIN))
    for url in _pages(objects):
        response = client.get(url)
        assert response.status_code == 200, url
        parser = _InlineCode()
        parser.feed(response.content.decode())
        hashes = {
            f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
            for s in parser.styles
        }
        blocked[url] = parser.found + sorted(hashes - allowed_styles)
    assert {url: found for url, found in blocked.items() if found} == {}


def test_the_two_factor_set_up_page_has_no_inline_code(client, staff_user):
    client.force_login(staff_user("CPSS"))
    parser = _InlineCode()
    parser.feed(client.get(reverse("two-factor")).content.decode())
    assert "<svg" in client.get(reverse("two-factor")).content.decode()
    assert parser.found == []
    assert parser.styles == []
