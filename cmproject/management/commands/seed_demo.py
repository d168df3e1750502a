"""Load realistic, clearly fictional demo data. Safe to rerun: it finds what it made before."""

import datetime
import secrets
from base64 import b32encode
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from cm_program.models import PatientCM
from cm_program.pods import pods_fold
from cm_program.services import (
    cm_patient_create,
    enrollment_create,
    enrollment_status_change,
    program_get_or_create,
)
from cmproject.database_roles import owner_login
from core.audit_context import command_context
from identity.services import find_or_create_canonical_patient
from incentives.demo import demo_history_record
from incentives.schedules import schedule_demo_publish
from incentives.services import opening_balances_record
from intakeq_link.models import IntakeQPatient, PatientIntakeQLink
from intakeq_link.services import intakeq_link_create
from providers.models import ProviderCM
from providers.services import provider_cm_create
from staff.services import totp_device_confirm, totp_device_get_or_create

PROGRAM_NAME = "Stimulant Use CM (demo)"

# (username, group, first, last, CM role or None, credentials)
STAFF = [
    ("demo-admin", "Admin", "Avery", "Admin", None, None),
    ("demo-supervisor", "CPSS Supervisor", "Ana", "Reyes", "supervisor", "CPSS-II"),
    ("demo-cpss", "CPSS", "Maria", "Lopez", "cpss", "CPSS-II"),
    ("demo-cpss2", "CPSS", "Daniel", "Chen", "cpss", "CPSS-I"),
    ("demo-psychiatry", "Psychiatry", "Priya", "Shah", None, None),
]

# IntakeQ EMR patients, as the IntakeQ sync would have written them.
INTAKEQ_PATIENTS = [
    ("IQ-DEMO-1001", "John", "Smith", "1985-06-15", "(801) 555-0147", "john.smith@example.com"),
    ("IQ-DEMO-1002", "Maria", "Garcia", "1978-11-02", "(801) 555-0112", "mgarcia@example.com"),
    ("IQ-DEMO-1003", "Robert", "Johnson", "1969-04-30", "(385) 555-0190", None),
    ("IQ-DEMO-1004", "Emily", "Davis", "1995-08-19", "(801) 555-0175", "emily.d@example.com"),
    ("IQ-DEMO-1005", "Michael", "Brown", "1988-01-07", None, "mbrown@example.com"),
    ("IQ-DEMO-1006", "Sarah", "Wilson", "1990-12-12", "(435) 555-0133", None),
]

# CM participants: (first, last, dob, cpss username, status, weeks enrolled, visits recorded
#                   (incentives.demo: N negative, P positive, M missed, E excused), points handed
#                   over, source, pod, IntakeQ client id when also a Moonlit psychiatry patient).
# Points and streaks follow from the recorded visits (docs/incentives.md).
CM_PATIENTS = [
    ("Jessica", "Martinez", "1992-03-22", "demo-cpss", "active", 6, "NNNNNNNPNNN", 100,
     "acute_care", "Pod A", None),
    ("John", "Smith", "1985-06-15", "demo-cpss", "active", 4, "NNMNNN", 0,
     "existing_patient", "Pod A", "IQ-DEMO-1001"),
    ("Tyler", "Nguyen", "1987-05-14", "demo-cpss", "paused", 3, "NPNNP", 0,
     "referral", "Pod B", None),
    ("Brianna", "Clark", "1996-10-03", "demo-cpss2", "active", 8, "NNNNNNNNNNNNNN", 200,
     "outpatient", "Pod B", None),
    ("Marcus", "Hall", "2000-07-21", "demo-cpss2", "graduated", 25, "N" * 10 + "E" + "N" * 25,
     1198, "acute_care", "Pod C", None),
    ("Kayla", "Young", "1993-01-30", "demo-cpss2", "active", 2, "PN", 0,
     "referral", "Pod C", None),
]  # fmt: skip


class Command(BaseCommand):
    help = "Load demo data (refuses to run with DEBUG off). Prints the demo logins."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on; it must never touch real data.")
        # The owner's login: the demo also plays the IntakeQ sync, writing `patients`, which the
        # site's own role may only read.
        owner = getattr(settings, "DATABASE_OWNER", None)
        with (
            owner_login(connection, owner),
            command_context("seed_demo"),
            transaction.atomic(),
        ):
            logins = self._staff()
            program = program_get_or_create(
                name=PROGRAM_NAME, description="Demo program: points for negative drug tests."
            )
            schedule_demo_publish(actor=get_user_model().objects.get(username="demo-admin"))
            intakeq = self._intakeq_patients()
            created = self._cm_patients(program, intakeq)
            pods_fold(program_ids=[program.pk])  # the demo's pods become the program's list
        self.stdout.write(f"Demo data ready ({created} new CM enrollments).")
        self.stdout.write("Demo logins (demo-only passwords, regenerated on every run):")
        for username, group, password in logins:
            self.stdout.write(f"  {username:<18} {password:<16} {group}")
        self.stdout.write(
            "Admins also need a two-factor code: add the key below to an authenticator app, or "
            "print the current code with "
            "`DEBUG=true .venv/bin/python manage.py demo_totp_code demo-admin`."
        )
        with owner_login(connection, owner):
            keys = self._two_factor_keys(logins)
        for username, secret, url in keys:
            self.stdout.write(f"  {username:<18} key {secret}  ({url})")

    def _staff(self):
        User = get_user_model()
        logins = []
        for username, group_name, first, last, cm_role, credentials in STAFF:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                },
            )
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_staff = group_name == "Admin"
            user.is_superuser = group_name == "Admin"
            user.save()
            group, _ = Group.objects.get_or_create(name=group_name)
            user.groups.add(group)
            if cm_role and not ProviderCM.objects.filter(user=user).exists():
                provider_cm_create(
                    first_name=first,
                    last_name=last,
                    email=user.email,
                    role=cm_role,
                    credentials=credentials,
                    hire_date=datetime.date(2024, 9, 3),
                    user=user,
                )
            logins.append((username, group_name, password))
        return logins

    def _two_factor_keys(self, logins):
        User = get_user_model()
        keys = []
        for username, group_name, _ in logins:
            if group_name != "Admin":
                continue
            device = totp_device_get_or_create(user=User.objects.get(username=username))
            totp_device_confirm(device=device)
            keys.append((username, b32encode(device.bin_key).decode(), device.config_url))
        return keys

    def _intakeq_patients(self):
        by_client_id = {}
        for client_id, first, last, dob, phone, email in INTAKEQ_PATIENTS:
            patient, _ = IntakeQPatient.objects.get_or_create(
                intakeq_client_id=client_id,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": datetime.date.fromisoformat(dob),
                    "phone": phone,
                    "email": email,
                },
            )
            by_client_id[client_id] = patient
        return by_client_id

    def _cm_patients(self, program, intakeq):
        providers = {p.user.username: p for p in ProviderCM.objects.select_related("user")}
        created = 0
        for index, row in enumerate(CM_PATIENTS):
            first, last, dob, cpss, status, weeks, pattern, issued, source, pod, client_id = row
            canonical, _ = find_or_create_canonical_patient(
                first_name=first, last_name=last, date_of_birth=dob
            )
            iq_patient = intakeq.get(client_id)
            if (
                iq_patient
                and not PatientIntakeQLink.objects.filter(canonical_patient=canonical).exists()
            ):
                intakeq_link_create(
                    canonical_patient=canonical,
                    intakeq_patient=iq_patient,
                    confidence_score=Decimal("1.00"),
                    linked_by=providers[cpss].pk,
                )
            cm_patient = PatientCM.objects.filter(canonical_patient=canonical).first()
            if cm_patient is None:
                cm_patient = cm_patient_create(
                    canonical_patient=canonical,
                    phone=iq_patient.phone if iq_patient else f"(801) 555-01{60 + index}",
                    email=iq_patient.email if iq_patient else None,
                    insurance_primary="Utah Medicaid",
                    enrollment_source=source,
                    consent_date=timezone.now() - datetime.timedelta(days=30 + 7 * index),
                    smartphone_access="yes" if index % 3 else "limited",
                    status=status,
                )
            enrollment = cm_patient.enrollments.filter(cm_program=program).first()
            if enrollment is None:
                # Active while its weeks of tests are recorded, then moved to its status.
                enrollment = enrollment_create(
                    canonical_patient=canonical,
                    cm_patient=cm_patient,
                    cm_program=program,
                    cpss_provider=providers[cpss],
                    enrollment_date=timezone.now() - datetime.timedelta(weeks=weeks, hours=1),
                    pod_assignment=pod,
                )
                demo_history_record(
                    enrollment=enrollment,
                    actor=providers[cpss].user,
                    pattern=pattern,
                    issue_points=issued,
                )
                if status != "active":
                    enrollment_status_change(
                        enrollment=enrollment,
                        to_status=status,
                        reason="Demo history",
                        actor=providers[cpss].user,
                    )
                created += 1
            else:
                # Made by an older seed_demo with made-up points: carried over as they stand.
                opening_balances_record(
                    enrollment_ids=[enrollment.pk], reason="Demo data from before the ledger"
                )
        return created
