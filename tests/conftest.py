import pytest


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
