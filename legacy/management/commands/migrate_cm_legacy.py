"""Move the old CM app's data (legacy providers, patients, cm_patients) into the new tables."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cm_program.models import ParticipationStatus
from core.audit_context import command_context
from legacy.services import (
    LEGACY_TABLES,
    LegacyTablesMissing,
    MigrationAlreadyRunning,
    MigrationResult,
    migrate_cm_legacy,
    write_report,
)


def _status_override(text: str) -> tuple[str, str]:
    value, sep, status = text.partition("=")
    if not sep or not value.strip() or status.strip() not in ParticipationStatus.values:
        raise CommandError(
            f"--map-status expects VALUE=STATUS with STATUS one of "
            f"{', '.join(ParticipationStatus.values)}."
        )
    return value, status.strip()


class Command(BaseCommand):
    help = (
        "Migrate the old CM data (legacy providers, patients, cm_patients) into providers_cm, "
        "patients_canonical, patients_cm, patients_intakeq_link and cm_enrollments. Safe to "
        "rerun; legacy rows are only read; what cannot be migrated goes to a CSV report."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Do everything inside a transaction that is rolled back; print what would happen.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=10000,
            help="Legacy rows per transaction (default 10000).",
        )
        parser.add_argument(
            "--report",
            type=Path,
            help="Where to write the reconciliation CSV (default var/reports/...; "
            "with --dry-run, only written when given).",
        )
        parser.add_argument(
            "--map-status",
            action="append",
            default=[],
            metavar="VALUE=STATUS",
            help="Map one more legacy status, e.g. --map-status inactive=withdrawn (repeatable).",
        )

    def handle(self, *args, **options):
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive number of rows.")
        overrides = dict(_status_override(text) for text in options["map_status"])
        if options["report"] is not None and options["report"].is_dir():
            # Found out only after the run had committed, the report would be lost.
            raise CommandError(f"--report {options['report']} is a directory; give a file name.")
        dry_run = options["dry_run"]
        tty = self.stdout.isatty()

        def progress(phase, done, total):
            if tty:
                width = 30
                filled = width * done // total if total else width
                end = "\n" if done >= total else ""
                self.stdout.write(
                    f"\r{phase:<12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
                    ending=end,
                )
                self.stdout.flush()
            else:
                self.stdout.write(f"{phase}: {done}/{total} rows processed")

        try:
            # Every row this run writes is attributed to it in the audit trail.
            with command_context("migrate_cm_legacy", dry_run=dry_run):
                result = migrate_cm_legacy(
                    dry_run=dry_run,
                    batch_size=batch_size,
                    status_overrides=overrides,
                    progress=progress,
                )
        except LegacyTablesMissing as exc:
            raise CommandError(
                f"The legacy tables are missing from this database ({', '.join(exc.args[0])}); "
                "there is nothing to migrate."
            ) from None
        except MigrationAlreadyRunning:
            raise CommandError(
                "Another migrate_cm_legacy run is in progress on this database; wait for it."
            ) from None

        self._summary(result)
        report_path = options["report"]
        if report_path is None and not dry_run:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
            report_path = (
                Path(settings.BASE_DIR) / "var" / "reports" / f"migrate_cm_legacy-{stamp}.csv"
            )
        if report_path is not None:
            write_report(result, report_path)
            self.stdout.write(
                f"Reconciliation report ({result.reported_total} rows not migrated, "
                f"{result.notes_total} notes): {report_path}"
            )
        self._conclusion(result)

    def _summary(self, result: MigrationResult):
        header = (
            f"{'legacy table':<14}{'read':>9}{'already':>9}{'migrated':>10}"
            f"{'merged':>9}{'reported':>10}{'skipped':>9}"
        )
        self.stdout.write("")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for table in LEGACY_TABLES:
            c = result.counts[table]
            self.stdout.write(
                f"{table:<14}{c.read:>9}{c.already:>9}{c.migrated:>10}{c.merged:>9}"
                f"{c.reported:>10}{c.skipped:>9}"
            )
        self.stdout.write(
            "(read = every row of the table = already + migrated + merged + reported + skipped)"
        )
        skipped = ", ".join(
            f"{table} {reason} {n}"
            for (table, reason), n in sorted(result.skipped_by_reason.items())
            if n
        )
        if skipped:
            self.stdout.write(f"Skipped (not CM data, left where it is): {skipped}.")
        if result.non_cpss_providers:
            self.stdout.write(
                f"{result.non_cpss_providers} psychiatry providers (not CPSS) stay where they are."
            )
        created = ", ".join(f"{table} {n}" for table, n in sorted(result.created.items()) if n)
        if result.values_not_carried_total:
            self.stdout.write(
                f"{result.values_not_carried_total} legacy values were not carried over (another "
                "row of the same person had a different one): see value_not_carried_over:<field> "
                "in the report."
            )
        verb = "Would create" if result.dry_run else "Created"
        self.stdout.write(f"{verb}: {created or 'nothing'}.")

    def _conclusion(self, result: MigrationResult):
        if result.dry_run:
            self.stdout.write("Dry run: nothing was written (everything was rolled back).")
        elif result.everything_already_migrated:
            self.stdout.write("Everything is already migrated; nothing was created.")
        elif result.created_total == 0:
            self.stdout.write(
                f"Nothing new to migrate; {result.reported_total} legacy rows still need "
                "reconciliation (see the report)."
            )
        else:
            self.stdout.write(self.style.SUCCESS("Migration done."))
