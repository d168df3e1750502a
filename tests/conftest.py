import pytest


@pytest.fixture(scope="session", autouse=True)
def _flush_past_append_only_triggers():
    """Transactional tests end with a flush (one TRUNCATE of every table), which the history
    tables' append-only triggers refuse. The tests' role is the superuser: it may switch
    ordinary triggers off for the flush, as no site role can."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if not statements:
            return statements
        return [
            "SET session_replication_role = replica;",
            *statements,
            "SET session_replication_role = DEFAULT;",
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture
def dictfetchall():
    """Run raw SQL and return rows as dicts: the tests speak the seed's SQL directly."""
    from django.db import connection

    def run(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            columns = [col.name for col in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    return run


@pytest.fixture(autouse=True)
def _force_login_includes_second_factor(monkeypatch):
    """``client.force_login`` skips the password; for users who need a second factor (admins)
    it skips that too, as if they had given it, so tests of pages need not sign in twice.
    Tests of two-factor itself sign in through the login and two-factor pages."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        from django_otp import DEVICE_ID_SESSION_KEY

        from staff.access import requires_two_factor
        from staff.services import totp_device_confirm, totp_device_get_or_create

        if requires_two_factor(user):
            device = totp_device_confirm(device=totp_device_get_or_create(user=user))
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def staff_user():
    """``staff_user("CPSS")``: an active user in that staff group (a CPSS gets a ProviderCM)."""
    from django.contrib.auth.models import Group

    from tests.factories import ProviderCMFactory, UserFactory

    def make(group_name, **fields):
        user = UserFactory(is_staff=group_name == "Admin", **fields)
        user.groups.add(Group.objects.get(name=group_name))
        if group_name in ("CPSS", "CPSS Supervisor"):
            role = "cpss" if group_name == "CPSS" else "supervisor"
            ProviderCMFactory(user=user, role=role)
        return user

    return make


@pytest.fixture
def cpss(client):
    """A CPSS (Maria Lopez), signed in."""
    from tests.factories import CPSSFactory

    provider = CPSSFactory(first_name="Maria", last_name="Lopez")
    client.force_login(provider.user)
    return provider


@pytest.fixture
def program():
    from tests.factories import ContingencyManagementFactory

    return ContingencyManagementFactory(name="Stimulant CM")
