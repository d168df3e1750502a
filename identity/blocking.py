"""Blocking for the matcher: which rows of every candidate source to fetch, in one statement.

identity imports no other app, so other apps plug their records in as *candidate sources*
(``intakeq_link`` registers the IntakeQ ``patients`` table in its AppConfig.ready()). A source
is a set-returning PL/pgSQL function in the database, created by its app's migration, taking the
lookup's normalized first and last names and its blocking dates::

    <function>(query_first text, query_last text, query_dates date[])
    RETURNS TABLE (pk uuid, first_name text, last_name text, date_of_birth date,
                   first_name_normalized text, last_name_normalized text, phone text, email text)

(a source without phone or email returns NULL there). Every source's function is called in one
``UNION ALL`` statement, one round trip per lookup.

Why functions rather than SQL compiled from the ORM: PL/pgSQL keeps its query's plan for the
life of the connection, so a lookup is neither parsed nor planned again (about 0.6 ms, half of
the database's work per lookup, at clinic scale). A prepared statement would do the same but
breaks behind a transaction-mode connection pooler; a function works through any.
"""

import datetime

from django.db import connection
from django.utils import timezone

from identity import dates

CANONICAL = "canonical"

_sources: dict[str, str] = {}
_statement: str | None = None


def register_candidate_source(name: str, sql_function: str) -> None:
    """Fetch candidates of source ``name`` with the database function ``sql_function``."""
    global _statement
    _sources[name] = sql_function
    _statement = None  # built again, with the new source, at the next lookup


def blocking_dates(date_of_birth: datetime.date) -> list[datetime.date]:
    """The dates of birth a source should look up: the query's and its common mistypings.

    Leaves out dates after today (nobody on file has one) and wrong-decade variants, which can
    never reach review (identity.dates.DATE_FACTORS) and would triple the rows fetched.
    """
    today = timezone.localdate()
    return [
        value
        for value, kind in dates.date_of_birth_variants(date_of_birth).items()
        if value <= today and kind != dates.DECADE_DIGIT
    ]


register_candidate_source(CANONICAL, "cm_canonical_block")  # identity 0007


def block_rows(first: str, last: str, date_of_birth: datetime.date) -> list[tuple]:
    """Every source's block for this lookup, in one statement: rows of (source, pk, first_name,
    last_name, date_of_birth, first normalized, last normalized, phone, email).

    ``first`` and ``last`` are the lookup's names, normalized.
    """
    global _statement
    if _statement is None:
        # The function names are the registry's constants, never input; quoted all the same.
        _statement = " UNION ALL ".join(
            f"SELECT %s, block.* FROM {connection.ops.quote_name(function)}"  # noqa: S608
            "(%s, %s, %s::date[]) AS block"
            for function in _sources.values()
        )
    # The dates as one array literal: cheaper to send than a list psycopg adapts date by date.
    dates_literal = "{" + ",".join(day.isoformat() for day in blocking_dates(date_of_birth)) + "}"
    params = [value for name in _sources for value in (name, first, last, dates_literal)]
    with connection.cursor() as cursor:
        cursor.execute(_statement, params)
        return cursor.fetchall()
