"""The set-based writes: COPY of new rows, per-batch plan tables, and legacy_id_map bookkeeping.

Per-row ORM saves (and so the per-row services) would be two orders of magnitude slower at 100k
rows; the values sent are built only from the value tables (legacy.values), which yield nothing
the models' choices and the database's CHECK constraints would refuse.
"""

import os
from collections.abc import Iterable

from django.db import connection
from django.db.models import Model

from core.audit_context import bind_context_to_transaction
from legacy.models import LegacyIdMap, MigrationNote
from legacy.results import PhaseLog, ReportLine


def fetch(sql: str, params: Iterable = ()) -> list[tuple]:
    """Rows of the legacy tables (only ever read)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def copy_rows(table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    # COPY bypasses Django's cursor.execute, where the audit context is attached.
    bind_context_to_transaction()
    # psycopg's write_row (its C row formatter, streaming while the server works) measured
    # faster than building one escaped text block per batch in Python: docs/legacy-migration.md.
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def copy_new_rows(log: PhaseLog, model: type[Model], columns: list[str], rows: list[tuple]):
    """COPY new rows of one of our models, counted as created."""
    copy_rows(model._meta.db_table, columns, rows)
    if rows:
        log.created[model._meta.db_table] += len(rows)


def plan_table(name: str, columns: str, rows: list[tuple]) -> None:
    """A session temp table holding one batch's plan, for an INSERT ... SELECT to join."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
        cursor.execute(f"TRUNCATE {name}")
    copy_rows(name, [c.split()[0] for c in columns.split(", ")], rows)


def already_mapped(legacy_table: str) -> dict[str, str]:
    """legacy id -> new id, for the rows of ``legacy_table`` that earlier runs migrated."""
    return text_ids(
        LegacyIdMap.objects.filter(legacy_table=legacy_table).values_list("legacy_id", "new_id")
    )


def write_id_map(log: PhaseLog, new_table: str, entries: list[tuple]) -> None:
    """entries: (legacy_id, new_id, outcome), in the transaction that wrote the new rows."""
    copy_rows(
        LegacyIdMap._meta.db_table,
        ["legacy_table", "legacy_id", "new_table", "new_id", "outcome"],
        [(log.table, legacy, new_table, new, outcome) for legacy, new, outcome in entries],
    )
    for _, _, outcome in entries:
        if outcome == LegacyIdMap.Outcome.MIGRATED:
            log.counts.migrated += 1
        else:
            log.counts.merged += 1
    store_notes(log)


_STORE_NOTES_SQL = (
    f"INSERT INTO {MigrationNote._meta.db_table} "  # noqa: S608 - a model's table name
    "(legacy_table, legacy_id, reason, related_id, value) "
    "SELECT * FROM unnest(%s::text[], %s::uuid[], %s::text[], %s::text[], %s::text[]) "
    "ON CONFLICT (legacy_table, legacy_id, reason) DO NOTHING"
)


def store_notes(log: PhaseLog) -> None:
    """The phase's notes made since the last call, into legacy_migration_notes, in the caller's
    transaction (the one that writes the rows they speak of)."""
    lines, log.unstored_notes = log.unstored_notes, []
    if not lines:
        return
    columns = [
        [line.legacy_table for line in lines],
        [str(line.legacy_id) for line in lines],
        [line.reason for line in lines],
        [None if line.related_id is None else str(line.related_id) for line in lines],
        [line.value for line in lines],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_STORE_NOTES_SQL, columns)


def stored_notes() -> list[ReportLine]:
    """Every note any run stored, oldest first."""
    return [
        ReportLine(table, str(legacy_id), "note", reason, related_id, value)
        for table, legacy_id, reason, related_id, value in MigrationNote.objects.values_list(
            "legacy_table", "legacy_id", "reason", "related_id", "value"
        )
    ]


def new_id() -> str:
    """A random (version 4) UUID as text: ids travel as text here, which is several times
    cheaper than uuid.UUID objects at 100k rows (hashing, comparing, COPY)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def text_ids(pairs) -> dict[str, str]:
    return {str(a): str(b) for a, b in pairs}
