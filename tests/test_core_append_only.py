import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from core.db import append_only_trigger

pytestmark = pytest.mark.django_db


TABLE = "core_test_history"


@pytest.fixture
def history_table():
    operation = append_only_trigger("core_test_history", unless="OLD.status = 'open'")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE core_test_history (id int PRIMARY KEY, status text)")
        for statement in operation.sql:
            cursor.execute(statement)
        cursor.execute("INSERT INTO core_test_history VALUES (1, 'open'), (2, 'closed')")
    return TABLE


def _refused(sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


def test_closed_row_refuses_update(history_table):
    _refused("UPDATE core_test_history SET status = 'x' WHERE id = 2")


def test_closed_row_refuses_delete(history_table):
    _refused("DELETE FROM core_test_history WHERE id = 2")


def test_table_refuses_truncate(history_table):
    _refused("TRUNCATE core_test_history")


def test_open_row_may_still_change(history_table):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_test_history SET status = 'closed' WHERE id = 1")
        cursor.execute("SELECT status FROM core_test_history WHERE id = 1")
        assert cursor.fetchone() == ("closed",)


def test_inserts_are_allowed(history_table):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO core_test_history VALUES (3, 'closed')")
        cursor.execute("SELECT count(*) FROM core_test_history")
        assert cursor.fetchone() == (3,)
