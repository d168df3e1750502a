"""Screenshots of each role's home at desktop (1280 px) and phone (390 px) width, for the docs.

Run by `make screenshots` (SCREENSHOTS=1); skipped otherwise, so `make test` never rewrites
docs/screenshots/. The people are made up; the pictures are referenced from docs/cpss-pages.md.
"""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser import DESKTOP, PHONE, chromium, signed_in_page
from tests.factories import (
    ContingencyManagementFactory,
    EnrollmentFactory,
    LinkProposalFactory,
    PatientIntakeQLinkFactory,
    ProviderCMFactory,
    SupervisorRequestFactory,
    staff_group,
)

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ROLES = {
    "cpss": "CPSS",
    "supervisor": "CPSS Supervisor",
    "psychiatry": "Psychiatry",
    "admin": "Admin",
}
PEOPLE = [
    ("Jessica", "Martinez", "active", True),
    ("Ana", "Reyes", "active", False),
    ("Lena", "Okafor", "paused", True),
    ("Rosa", "Diaz", "active", True),
    ("Tom", "Becker", "graduated", True),
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("SCREENSHOTS"), reason="screenshots for docs/: run `make screenshots`"
    ),
]


def _demo(cpss):
    program = ContingencyManagementFactory(name="Stimulant CM")
    other = ProviderCMFactory(first_name="Sam", last_name="Ortiz", max_caseload=4)
    for i, (first, last, status, consent) in enumerate(PEOPLE):
        enrollment = EnrollmentFactory(
            cm_program=program,
            cpss_provider=cpss.cm_provider if i % 2 == 0 else other,
            status=status,
            cm_patient__canonical_patient__first_name=first,
            cm_patient__canonical_patient__last_name=last,
            cm_patient__consent_date=timezone.now() if consent else None,
        )
        if i == 3:
            PatientIntakeQLinkFactory(canonical_patient=enrollment.canonical_patient)
    SupervisorRequestFactory()
    LinkProposalFactory()


def test_each_roles_home_at_desktop_and_phone_width(monkeypatch, live_server, staff_user):
    for name in ROLES.values():
        staff_group(name)
    users = {key: staff_user(name) for key, name in ROLES.items()}
    users["cpss"].cm_provider.first_name, users["cpss"].cm_provider.last_name = "Maria", "Lopez"
    users["cpss"].cm_provider.save()
    _demo(users["cpss"])
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium(monkeypatch) as browser:
        for key, user in users.items():
            for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page = signed_in_page(browser, live_server, user, viewport=viewport)
                page.goto(live_server.url + "/")
                page.wait_for_selector("h1")
                page.screenshot(path=str(OUT / f"home-{key}-{width}.png"), full_page=True)
                page.context.close()
    assert len(list(OUT.glob("home-*.png"))) >= 2 * len(ROLES)
