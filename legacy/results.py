"""What a run did: counts per legacy table, report lines, new rows by table; and how phases batch.

Every row of the legacy tables ends in exactly one outcome: already migrated (earlier run),
migrated (new row), merged (into a row that already existed), reported (not migrated, with a
reason, in the reconciliation report), or skipped (not CM data, e.g. a psychiatrist or an IntakeQ
patient nobody enrolled, with a reason). Notes are extra report lines about rows that were
migrated.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields

LEGACY_TABLES = ("providers", "patients", "cm_patients")
# A note's reason prefix, then the field: a legacy value that differed from the one carried over.
VALUE_NOT_CARRIED = "value_not_carried_over:"

ProgressFn = Callable[[str, int, int], None]
AfterBatchFn = Callable[[str, int], None]


@dataclass
class TableCounts:
    read: int = 0
    already: int = 0
    migrated: int = 0
    merged: int = 0
    reported: int = 0
    skipped: int = 0

    @property
    def balanced(self) -> bool:
        outcomes = self.already + self.migrated + self.merged + self.reported + self.skipped
        return self.read == outcomes

    def add(self, other: "TableCounts") -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ReportLine:
    legacy_table: str
    legacy_id: object
    kind: str  # "reported" (not migrated), "skipped" (not CM data) or "note" (migrated, look)
    reason: str
    related_id: object = None
    value: str = ""


@dataclass(kw_only=True)
class PhaseLog:
    """What one phase did to the legacy table it reads. Phases return a subclass that adds the
    ids the later phases need."""

    table: str
    counts: TableCounts = field(default_factory=TableCounts)
    report: list[ReportLine] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    # Notes not yet in legacy_migration_notes: stored with the next batch this phase commits.
    unstored_notes: list[ReportLine] = field(default_factory=list)
    skipped_by_reason: Counter = field(default_factory=Counter)

    def reported(self, legacy_id, reason: str, *, related_id=None, value=None) -> None:
        """A row of this phase's table that is not migrated."""
        self._line(self.table, legacy_id, "reported", reason, related_id, value)
        self.counts.reported += 1

    def skipped(self, reason: str, legacy_ids=(), *, count: int | None = None) -> None:
        """Rows of this phase's table read but not CM data, left where they are: each one a
        report line, or (``count``, for the many IntakeQ rows) only counted."""
        number = len(legacy_ids) if count is None else count
        for legacy_id in legacy_ids:
            self._line(self.table, legacy_id, "skipped", reason, None, None)
        self.counts.read += number
        self.counts.skipped += number
        self.skipped_by_reason[(self.table, reason)] += number

    def note(self, legacy_id, reason: str, *, table=None, related_id=None, value=None) -> None:
        """A row that was migrated (or merged) but is worth a person's look."""
        line = self._line(table or self.table, legacy_id, "note", reason, related_id, value)
        self.unstored_notes.append(line)

    def _line(self, table, legacy_id, kind, reason, related_id, value) -> ReportLine:
        # Codes and scores only: never a name or a date of birth.
        line = ReportLine(table, legacy_id, kind, reason, related_id, (value or "")[:40])
        self.report.append(line)
        return line


@dataclass
class MigrationResult:
    counts: dict[str, TableCounts] = field(
        default_factory=lambda: {table: TableCounts() for table in LEGACY_TABLES}
    )
    report: list[ReportLine] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    non_cpss_providers: int = 0
    dry_run: bool = False
    skipped_by_reason: Counter = field(default_factory=Counter)  # (table, reason) -> rows

    def add(self, phase: PhaseLog) -> None:
        self.counts[phase.table].add(phase.counts)
        self.report.extend(phase.report)
        self.created.update(phase.created)
        self.skipped_by_reason.update(phase.skipped_by_reason)

    def report_notes_from(self, stored: list[ReportLine]) -> None:
        """The report: this run's rows not migrated or skipped, then every note ever stored (a
        killed run's too), instead of the notes this run happened to make."""
        self.report = [line for line in self.report if line.kind != "note"] + stored

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    @property
    def reported_total(self) -> int:
        return sum(c.reported for c in self.counts.values())

    @property
    def notes_total(self) -> int:
        return sum(1 for line in self.report if line.kind == "note")

    @property
    def values_not_carried_total(self) -> int:
        return sum(1 for line in self.report if line.reason.startswith(VALUE_NOT_CARRIED))

    @property
    def everything_already_migrated(self) -> bool:
        return self.created_total == 0 and all(
            c.read == c.already + c.skipped for c in self.counts.values()
        )


@dataclass(frozen=True)
class Batching:
    """Rows per transaction, and who hears about each committed batch."""

    size: int = 10000
    progress: ProgressFn | None = None
    # Test hook: called after each committed batch with (legacy table, batch number).
    after_batch: AfterBatchFn | None = None

    def ranges(self, total: int) -> Iterator[tuple[int, range]]:
        """(batch number from 1, positions in it) over ``total`` items."""
        for number, start in enumerate(range(0, total, self.size), start=1):
            yield number, range(start, min(start + self.size, total))

    def committed(self, table: str, number: int, done: int, total: int) -> None:
        if self.progress:
            self.progress(table, done, total)
        if self.after_batch:
            self.after_batch(table, number)
