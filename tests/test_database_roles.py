"""The history cannot be erased with the site's own database login (issue #11, M6).

The tests run as one role (the owner); here the site's role is created in the test database with
the SQL ``database_roles_sql`` prints, and a second connection logs in as it.
"""

from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from cmproject.database_roles import (
    create_role_statements,
    grant_statements,
    harden_history_tables,
    history_tables,
)
from core.db import append_only_trigger
from tests.factories import LinkProposalFactory

APP_ROLE = "cm_app"
HISTORY_TABLES = [
    "audit_cm_drug_tests_event",
    "audit_cm_enrollments_event",
    "audit_cm_incentive_ledger_event",
    "audit_cm_incentive_plans_event",
    "audit_cm_incentive_schedules_event",
    "audit_cm_incentive_visits_event",
    "audit_cm_supervisor_requests_event",
    "audit_patient_access_log",
    "audit_patients_canonical_merge_event",
    "audit_patients_canonical_event",
    "audit_patients_cm_event",
    "audit_patients_intakeq_link_event",
    "audit_providers_cm_event",
    "cm_drug_tests",
    "cm_enrollment_status_changes",
    "cm_incentive_ledger",
    "patients_intakeq_link_history",
]
PROPOSALS = "patients_intakeq_link_proposal"


def _execute_committed(statements):
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture(scope="module")
def app_role(django_db_setup, django_db_blocker):
    """The site's role, with its grants on the test database (committed, so a second
    connection sees them)."""
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            owner = cursor.fetchone()[0]
            try:
                _execute_committed(create_role_statements(APP_ROLE))
            except DatabaseError:
                pytest.skip("the tests' database login may not create roles")
            _execute_committed(
                grant_statements(
                    cursor,
                    app_role=APP_ROLE,
                    owner_role=owner,
                    database=connection.settings_dict["NAME"],
                )
            )
        settings = connection.settings_dict
        yield {
            "dbname": settings["NAME"],
            "user": APP_ROLE,
            "host": settings["HOST"] or None,
            "port": settings["PORT"] or None,
        }


@pytest.fixture
def as_app(app_role):
    """A connection logged in as the site's role; each statement in its own transaction."""
    try:
        conn = psycopg.connect(**app_role, autocommit=True)
    except psycopg.OperationalError:
        pytest.skip("the site's role cannot log in here without a password")
    yield conn
    conn.close()


def _refused(conn, statement, match=None):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=match):
        conn.execute(statement)


@pytest.mark.django_db
def test_history_tables_are_read_from_the_catalog():
    with connection.cursor() as cursor:
        found = history_tables(cursor)
    assert set(HISTORY_TABLES) <= set(found)
    # Its append-only trigger spares pending rows: a domain table whose decided rows are frozen.
    assert PROPOSALS not in found


@pytest.mark.parametrize("table", [*HISTORY_TABLES, PROPOSALS])
def test_site_role_cannot_truncate_history(as_app, table):
    _refused(as_app, f"TRUNCATE {table}")


@pytest.mark.parametrize("table", [*HISTORY_TABLES, PROPOSALS])
def test_site_role_cannot_disable_the_triggers_of_history(as_app, table):
    _refused(as_app, f"ALTER TABLE {table} DISABLE TRIGGER USER")


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_site_role_cannot_update_history(as_app, table):
    _refused(as_app, f"UPDATE {table} SET id = id")  # noqa: S608 - fixed names


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_site_role_cannot_delete_history(as_app, table):
    _refused(as_app, f"DELETE FROM {table}")  # noqa: S608 - fixed names


def test_site_role_cannot_switch_triggers_off_with_the_replication_role(as_app):
    _refused(as_app, "SET session_replication_role = replica")


def test_site_role_owns_nothing(as_app):
    owned = as_app.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = "
        "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ).fetchone()[0]
    assert owned == 0


def test_site_role_appends_to_history_and_writes_domain_tables(as_app):
    with as_app.transaction(force_rollback=True):
        as_app.execute(
            "INSERT INTO audit_patient_access_log (username, patient_kind, patient_id) "
            "VALUES ('someone', 'cm', gen_random_uuid())"
        )
        as_app.execute("INSERT INTO contingency_management (name) VALUES ('Role test')")
        as_app.execute("UPDATE contingency_management SET description = 'x'")
        as_app.execute("DELETE FROM contingency_management")


def test_a_history_table_added_later_loses_its_rewrite_rights_at_migrate(app_role, as_app):
    """Default privileges give a new table the domain rights; the step after every migrate
    takes the rewrite rights back once the table carries the append-only trigger."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE later_ledger (id int PRIMARY KEY)")
        for statement in append_only_trigger("later_ledger").sql:
            cursor.execute(statement)
        try:
            harden_history_tables(cursor)
            # Refused by the missing right, before the trigger is reached.
            _refused(as_app, "UPDATE later_ledger SET id = id", match="permission denied")
            _refused(as_app, "DELETE FROM later_ledger", match="permission denied")
            as_app.execute("INSERT INTO later_ledger VALUES (1)")
        finally:
            cursor.execute("DROP TABLE later_ledger")


@pytest.mark.django_db
def test_a_decided_proposal_is_frozen_for_everyone():
    proposal = LinkProposalFactory()
    proposal.status, proposal.decided_at = "rejected", timezone.now()
    proposal.save()  # deciding a pending proposal is allowed

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        type(proposal).objects.filter(pk=proposal.pk).update(decision_note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        type(proposal).objects.filter(pk=proposal.pk).delete()


@pytest.mark.django_db
def test_the_printed_sql_creates_the_role_and_grants_history_read_and_append_only():
    out = StringIO()
    call_command("database_roles_sql", "--app-role", "cm_site", stdout=out)
    sql = out.getvalue()

    assert 'CREATE ROLE "cm_site" LOGIN NOSUPERUSER' in sql
    assert 'GRANT SELECT, INSERT ON "cm_enrollment_status_changes" TO "cm_site";' in sql
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON "patients_cm" TO "cm_site";' in sql
    assert "ALTER DEFAULT PRIVILEGES FOR ROLE" in sql
    assert "ON SEQUENCES TO" in sql
    assert "PASSWORD '...'" in sql


@pytest.mark.django_db
def test_the_admin_offers_no_delete_of_an_enrollment_whose_history_is_permanent(client, staff_user):
    from django.urls import reverse

    from tests.factories import EnrollmentFactory

    enrollment = EnrollmentFactory()
    client.force_login(staff_user("Admin"))
    response = client.get(reverse("admin:cm_program_enrollment_delete", args=[enrollment.pk]))
    assert response.status_code == 403


def test_site_role_runs_the_matchers_block_functions(as_app):
    rows = as_app.execute(
        "SELECT count(*) FROM cm_canonical_block('ana', 'reyes', '{1990-01-01}'::date[]), "
        "cm_intakeq_block('ana', 'reyes', '{1990-01-01}'::date[])"
    ).fetchone()
    assert rows == (0,)


@pytest.mark.django_db
def test_an_unknown_database_alias_is_refused_in_one_sentence():
    with pytest.raises(CommandError, match="No database is configured as 'nope'"):
        call_command("database_roles_sql", "--database", "nope", stdout=StringIO())
