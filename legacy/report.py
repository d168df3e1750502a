"""The reconciliation report: one CSV line per legacy row not migrated, or migrated with a note."""

from pathlib import Path

from core.safe_csv import private_csv_writer
from legacy.results import MigrationResult

COLUMNS = ["legacy_table", "legacy_id", "kind", "reason", "related_id", "value"]


def write_report(result: MigrationResult, path: Path) -> Path:
    """CSV, ids and reasons only: no names, dates of birth or free text beyond the coded value.

    The file is readable by its owner only from its first byte, and a legacy value that a
    spreadsheet would run as a formula (``=HYPERLINK(...)``) is written as text.
    """
    with private_csv_writer(path) as writer:
        writer.writerow(COLUMNS)
        for line in result.report:
            writer.writerow(
                [
                    line.legacy_table,
                    line.legacy_id,
                    line.kind,
                    line.reason,
                    line.related_id or "",
                    line.value,
                ]
            )
    return path
