"""Blocking for the matcher: which rows of every candidate source to fetch, in one statement.

identity imports no other app, so other apps plug their records in as *candidate sources*
(``intakeq_link`` registers the IntakeQ ``patients`` table in its AppConfig.ready()). A source
is a function returning its blocking QuerySet, written with the ORM and filtered with the
markers below; it is called **once**, compiled to SQL once, and every source's SQL is joined
into one ``UNION ALL`` statement. Each lookup then only fills in its parameters: no ORM
building per call (it cost ~3 ms, more than the database's work) and one round trip instead of
one per source.

The QuerySet must be a ``values_list`` of exactly these columns, in this order:
``pk, first_name, last_name, date_of_birth, first name normalized, last name normalized,
phone, email`` (a source without phone or email selects NULL: ``no_contact()``).
"""

import datetime
from collections.abc import Callable

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from identity import dates
from identity.models import PatientCanonical

CANONICAL = "canonical"


class _Marker:
    """A parameter of the compiled blocking SQL, filled in per lookup."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"<blocking parameter {self.name}>"


_DATES = _Marker("dates")
_FIRST = _Marker("first name, normalized")
_LAST = _Marker("last name, normalized")


def in_blocking_dates(field: str = "date_of_birth") -> Func:
    """``<field> = ANY(<the lookup's blocking dates>)``, for a source's ``filter()``."""
    return Func(
        F(field),
        RawSQL("%s::date[]", (_DATES,)),
        arg_joiner=" = ANY(",
        template="%(expressions)s)",
        output_field=BooleanField(),
    )


def query_first_name() -> RawSQL:
    """The lookup's first name, normalized (identity.normalization), for a source's filter."""
    return RawSQL("%s", (_FIRST,), output_field=TextField())


def query_last_name() -> RawSQL:
    return RawSQL("%s", (_LAST,), output_field=TextField())


def no_contact() -> dict:
    """``annotate(**no_contact())`` for a source that has no phone or email."""
    return {
        "phone_none": Value(None, output_field=TextField()),
        "email_none": Value(None, output_field=TextField()),
    }


CandidateSource = Callable[[], QuerySet]
_sources: dict[str, CandidateSource] = {}
_compiled: tuple[str, list] | None = None


def register_candidate_source(name: str, source: CandidateSource) -> None:
    global _compiled
    _sources[name] = source
    _compiled = None  # compiled again, with the new source, at the next lookup


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


def _canonical_block() -> QuerySet:
    rows = (
        # A merged row is not a person of its own any more; its kept person is found.
        PatientCanonical.objects.filter(merged_into__isnull=True)
        .order_by()  # ranking happens after scoring; a SQL sort would only cost time
        .annotate(**no_contact())
        .values_list(
            "pk",
            "first_name",
            "last_name",
            "date_of_birth",
            "first_name_normalized",
            "last_name_normalized",
            "phone_none",
            "email_none",
        )
    )
    first, last = query_first_name(), query_last_name()
    same_name = Q(first_name_normalized=first, last_name_normalized=last) | Q(
        first_name_normalized=last, last_name_normalized=first
    )
    # Two branches rather than one OR, so the dates are read from patients_canonical_block_idx
    # alone; the same name with any other date comes from patients_canonical_name_idx.
    return rows.filter(in_blocking_dates()).union(
        rows.filter(same_name).exclude(in_blocking_dates()), all=True
    )


register_candidate_source(CANONICAL, _canonical_block)


def _compile() -> tuple[str, list]:
    parts, params = [], []
    for name, source in _sources.items():
        sql, source_params = source().query.sql_with_params()
        # The SQL is the ORM's own compilation of the source's QuerySet; the name is a parameter.
        parts.append(f"SELECT %s, block.* FROM ({sql}) AS block")  # noqa: S608
        params.extend([name, *source_params])
    return " UNION ALL ".join(parts), params


def block_rows(first: str, last: str, date_of_birth: datetime.date) -> list[tuple]:
    """Every source's block for this lookup, in one statement: rows of (source, pk, first_name,
    last_name, date_of_birth, first normalized, last normalized, phone, email).

    ``first`` and ``last`` are the lookup's names, normalized.
    """
    global _compiled
    if _compiled is None:
        _compiled = _compile()
    sql, template = _compiled
    # The dates as one array literal: cheaper to send than a list psycopg adapts date by date.
    dates_literal = "{" + ",".join(day.isoformat() for day in blocking_dates(date_of_birth)) + "}"
    values = {_DATES: dates_literal, _FIRST: first, _LAST: last}
    params = [values[p] if isinstance(p, _Marker) else p for p in template]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
