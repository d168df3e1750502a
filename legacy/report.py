"""The reconciliation report: one CSV line per legacy row not migrated, or migrated with a note."""

import csv
from pathlib import Path

from legacy.results import MigrationResult

COLUMNS = ["legacy_table", "legacy_id", "kind", "reason", "related_id", "value"]


def write_report(result: MigrationResult, path: Path) -> Path:
    """CSV, ids and reasons only: no names, dates of birth or free text beyond the coded value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
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
    path.chmod(0o600)
    return path
