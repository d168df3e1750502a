"""The audit trail: a change-history row for every write path, page views logged, rows immutable."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.urls import reverse

from access_log.models import PatientAccessLog
from audit.models import (
    EnrollmentEvent,
    PatientCanonicalEvent,
    PatientCMEvent,
    PatientIntakeQLinkEvent,
    ProviderCMEvent,
)
from audit.selectors import patient_change_history
from cm_program.models import PatientCM
from core.audit_context import command_context
from identity.services import find_or_create_canonical_patient
from tests.factories import (
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientCMFactory,
    PatientIntakeQLinkFactory,
    ProviderCMFactory,
)

pytestmark = pytest.mark.django_db


def test_service_create_records_an_insert_event():
    patient, _ = find_or_create_canonical_patient(
        first_name="Jessica", last_name="Martinez", date_of_birth="1992-03-22"
    )
    event = PatientCanonicalEvent.objects.get(pgh_obj_id=patient.pk)
    assert (event.pgh_label, event.last_name) == ("insert", "Martinez")


def test_bulk_update_records_one_event_per_row():
    first, second = PatientCMFactory(), PatientCMFactory()
    PatientCM.objects.filter(pk__in=[first.pk, second.pk]).update(phone="(801) 555-0000")
    updated = PatientCMEvent.objects.filter(pgh_label="update", phone="(801) 555-0000")
    assert set(updated.values_list("pgh_obj_id", flat=True)) == {first.pk, second.pk}


def test_raw_sql_update_is_recorded():
    enrollment = EnrollmentFactory()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cm_enrollments SET total_points = 99 WHERE id = %s", [enrollment.pk])
    assert EnrollmentEvent.objects.filter(
        pgh_obj_id=enrollment.pk, pgh_label="update", total_points=99
    ).exists()


def test_delete_is_recorded_with_the_row_as_it_was():
    link = PatientIntakeQLinkFactory()
    link_id, intakeq_id = link.pk, link.intakeq_patient_id
    link.delete()
    event = PatientIntakeQLinkEvent.objects.get(pgh_obj_id=link_id, pgh_label="delete")
    assert event.intakeq_patient_id == intakeq_id


def test_provider_changes_are_recorded():
    provider = ProviderCMFactory()
    provider.max_caseload = 12
    provider.save()
    assert ProviderCMEvent.objects.filter(
        pgh_obj_id=provider.pk, pgh_label="update", max_caseload=12
    ).exists()


def test_command_context_names_the_command_on_raw_sql_writes():
    cm_patient = PatientCMFactory()
    with command_context("migrate_cm_legacy"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_cm SET email = 'x@example.com' WHERE id = %s", [cm_patient.pk]
        )
    event = PatientCMEvent.objects.get(pgh_obj_id=cm_patient.pk, pgh_label="update")
    assert event.pgh_context["command"] == "migrate_cm_legacy"


def test_seed_demo_writes_are_attributed_to_the_command(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    event = PatientCanonicalEvent.objects.first()
    assert event.pgh_context["command"] == "seed_demo"


def test_admin_form_change_records_who_and_where(client, staff_user):
    admin_user = staff_user("Admin")
    cm_patient = PatientCMFactory(phone="(801) 555-0100")
    client.force_login(admin_user)
    url = reverse("admin:cm_program_patientcm_change", args=[cm_patient.pk])
    response = client.post(
        url,
        {
            "canonical_patient": cm_patient.canonical_patient_id,
            "phone": "(801) 555-0199",
            "email": cm_patient.email,
            "address_state": "UT",
            "preferred_language": "English",
            "status": "active",
            "smartphone_access": "yes",
            "enrollment_source": "acute_care",
        },
    )
    assert response.status_code == 302
    event = PatientCMEvent.objects.get(pgh_obj_id=cm_patient.pk, pgh_label="update")
    assert event.phone == "(801) 555-0199"
    assert event.pgh_context == {"user": admin_user.pk, "url": url}


def test_who_made_a_change_stays_in_the_event_row_whatever_the_shared_context_table_says(
    client, staff_user
):
    admin_user = staff_user("Admin", username="the-admin")
    cm_patient = PatientCMFactory(phone="(801) 555-0100")
    with command_context("some_command"):
        cm_patient.phone = "(801) 555-0101"
        cm_patient.save()
    # What the application's login could do before: rewrite "who" for every event of a request.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE pghistory_context SET metadata = jsonb_build_object('user', %s::int)",
            [admin_user.pk],
        )

    [change] = [
        record
        for record in patient_change_history(canonical_patient_id=cm_patient.canonical_patient_id)
        if record.table == "patients_cm" and record.action == "update"
    ]
    assert (change.who, change.via) != ("the-admin", "database")
    assert change.via == "manage.py some_command"


def test_history_lists_only_the_fields_that_changed():
    cm_patient = PatientCMFactory(phone="(801) 555-0100")
    PatientCM.objects.filter(pk=cm_patient.pk).update(phone="(801) 555-0111")
    history = patient_change_history(canonical_patient_id=cm_patient.canonical_patient_id)
    update = next(r for r in history if r.table == "patients_cm" and r.action == "update")
    assert update.changes == {"phone": ("(801) 555-0100", "(801) 555-0111")}


def test_admin_reads_the_history_of_a_patient(client, staff_user):
    cm_patient = PatientCMFactory(phone="(801) 555-0100")
    PatientCM.objects.filter(pk=cm_patient.pk).update(phone="(801) 555-0123")
    client.force_login(staff_user("Admin"))
    response = client.get(reverse("audit:patient-history", args=[cm_patient.canonical_patient_id]))
    assert response.status_code == 200
    assert "(801) 555-0123" in response.content.decode()


def test_viewing_a_patient_page_is_logged(client, staff_user):
    user = staff_user("Psychiatry")
    patient = IntakeQPatientFactory()
    client.force_login(user)
    client.get(reverse("intakeq:patient-detail", args=[patient.pk]))
    entry = PatientAccessLog.objects.get()
    assert (entry.user_id, entry.patient_kind, entry.patient_id) == (user.pk, "intakeq", patient.pk)


def test_a_refused_patient_page_logs_nothing(client, staff_user):
    client.force_login(staff_user("Psychiatry"))
    legacy_cm_row = IntakeQPatientFactory(intakeq_client_id=None)
    client.get(reverse("intakeq:patient-detail", args=[legacy_cm_row.pk]))
    assert not PatientAccessLog.objects.exists()


def test_database_refuses_to_change_or_delete_access_log_rows(staff_user):
    from access_log.services import patient_access_log_create

    entry = patient_access_log_create(
        user=staff_user("Psychiatry"), patient_kind="intakeq", patient_id=IntakeQPatientFactory().pk
    )
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        PatientAccessLog.objects.filter(pk=entry.pk).update(username="someone-else")
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        PatientAccessLog.objects.filter(pk=entry.pk).delete()


def test_database_refuses_to_rewrite_change_history():
    cm_patient = PatientCMFactory()
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        PatientCMEvent.objects.filter(pgh_obj_id=cm_patient.pk).update(phone="forged")


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:access_log_patientaccesslog_add",
        "admin:audit_patientcmevent_add",
    ],
)
def test_admins_cannot_add_audit_rows_through_the_admin(client, staff_user, url_name):
    client.force_login(staff_user("Admin"))
    assert client.get(reverse(url_name)).status_code == 403


def test_admins_cannot_change_or_delete_audit_rows_through_the_admin(client, staff_user):
    cm_patient = PatientCMFactory(phone="(801) 555-0100")
    event = PatientCMEvent.objects.get(pgh_obj_id=cm_patient.pk)
    client.force_login(staff_user("Admin"))
    delete_url = reverse("admin:audit_patientcmevent_delete", args=[event.pk])
    change_url = reverse("admin:audit_patientcmevent_change", args=[event.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    client.post(change_url, {"phone": "forged"})
    event.refresh_from_db()
    assert event.phone == "(801) 555-0100"


def test_admin_group_holds_permissions_of_apps_installed_after_the_groups_migration():
    from django.contrib.auth.models import Group

    codenames = set(Group.objects.get(name="Admin").permissions.values_list("codename", flat=True))
    assert {"view_patientaccesslog", "view_accessattempt", "view_totpdevice"} <= codenames


def test_cpss_edit_form_change_records_who(client, staff_user):
    cpss = staff_user("CPSS")
    enrollment = EnrollmentFactory(cpss_provider=cpss.cm_provider)
    client.force_login(cpss)
    url = reverse(
        "cm:patient-edit", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    data = {k: v for k, v in client.get(url).context["form"].initial.items() if v is not None}
    data["phone"] = "(801) 555-0177"
    response = client.post(url, data)
    assert response.status_code == 302
    event = PatientCMEvent.objects.get(pgh_obj_id=enrollment.cm_patient_id, pgh_label="update")
    assert (event.phone, event.pgh_context["user"]) == ("(801) 555-0177", cpss.pk)


def test_viewing_a_cm_patient_page_is_logged(client, staff_user):
    cpss = staff_user("CPSS")
    enrollment = EnrollmentFactory(cpss_provider=cpss.cm_provider)
    client.force_login(cpss)
    client.get(
        reverse(
            "cm:patient-detail", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
        )
    )
    entry = PatientAccessLog.objects.get()
    assert (entry.user_id, entry.patient_kind, entry.patient_id) == (
        cpss.pk,
        "canonical",
        enrollment.canonical_patient_id,
    )


def test_another_caseloads_patient_page_logs_nothing(client, staff_user):
    client.force_login(staff_user("CPSS"))
    theirs = EnrollmentFactory()
    client.get(
        reverse("cm:patient-detail", kwargs={"canonical_patient_id": theirs.canonical_patient_id})
    )
    assert not PatientAccessLog.objects.exists()


def test_copy_writes_are_recorded_with_the_command_context():
    from core.audit_context import bind_context_to_transaction
    from tests.factories import PatientCanonicalFactory

    canonical = PatientCanonicalFactory()
    # The transaction first: its own statements must not carry the context for us.
    with transaction.atomic(), command_context("migrate_cm_legacy"):
        bind_context_to_transaction()
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy("COPY patients_cm (canonical_patient_id, phone) FROM STDIN") as copy,
        ):
            copy.write_row((canonical.pk, "(801) 555-0142"))
    event = PatientCMEvent.objects.get(canonical_patient_id=canonical.pk, pgh_label="insert")
    assert event.pgh_context["command"] == "migrate_cm_legacy"


def test_opening_a_patient_in_the_admin_is_logged(client, staff_user):
    admin_user = staff_user("Admin")
    cm_patient = PatientCMFactory()
    client.force_login(admin_user)
    client.get(
        reverse("admin:identity_patientcanonical_change", args=[cm_patient.canonical_patient_id])
    )
    client.get(reverse("admin:cm_program_patientcm_change", args=[cm_patient.pk]))
    logged = set(PatientAccessLog.objects.values_list("patient_kind", "patient_id"))
    assert logged == {("canonical", cm_patient.canonical_patient_id), ("cm", cm_patient.pk)}


def test_the_complete_patient_view_is_logged_and_shows_every_system(client, staff_user):
    link = PatientIntakeQLinkFactory()
    EnrollmentFactory(cm_patient__canonical_patient=link.canonical_patient)
    client.force_login(staff_user("Admin"))
    response = client.get(reverse("complete-patient-view", args=[link.canonical_patient_id]))
    body = response.content.decode()
    assert link.intakeq_patient.intakeq_client_id in body
    assert "Utah Medicaid" in body
    assert (
        PatientAccessLog.objects.get(patient_kind="canonical").patient_id
        == link.canonical_patient_id
    )


def test_the_dual_enrollment_report_lists_people_in_both_systems_only(client, staff_user):
    both = PatientIntakeQLinkFactory()
    EnrollmentFactory(cm_patient__canonical_patient=both.canonical_patient)
    cm_only = EnrollmentFactory()
    client.force_login(staff_user("Admin"))
    body = client.get(reverse("dual-enrollment-report")).content.decode()
    assert both.canonical_patient.last_name in body
    assert cm_only.canonical_patient.last_name not in body


def test_the_legacy_migration_command_is_recorded_as_the_author_of_its_rows(tmp_path):
    from pathlib import Path

    with connection.cursor() as cursor:
        cursor.execute((Path(__file__).parent / "fixtures" / "legacy_schema.sql").read_text())
        cursor.execute(
            "INSERT INTO providers (first_name, last_name, role) VALUES ('Casey', 'Peer', 'cpss')"
            " RETURNING id"
        )
        provider_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO patients (first_name, last_name, date_of_birth)"
            " VALUES ('Ada', 'Legacy', '1980-02-02') RETURNING id"
        )
        patient_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO cm_patients (patient_id, cpss_provider_id) VALUES (%s, %s)",
            [patient_id, provider_id],
        )
    call_command("migrate_cm_legacy", "--report", str(tmp_path / "report.csv"), stdout=StringIO())
    authors = {
        model.__name__: {
            e.pgh_context.get("command") for e in model.objects.filter(pgh_label="insert")
        }
        for model in (PatientCanonicalEvent, PatientCMEvent, EnrollmentEvent, ProviderCMEvent)
    }
    assert authors == dict.fromkeys(authors, {"migrate_cm_legacy"})
