"""manage.py incentives_check: replay every enrollment and list (ids only) those that differ."""

from django.core.management.base import BaseCommand, CommandError

from incentives.consistency import enrollments_check


class Command(BaseCommand):
    help = (
        "Replay every enrollment from its tests and ledger; exit 1 listing the ids of those whose "
        "total_points or current_streak differ from the replay or from their ledger (earned "
        "points summed, the streak its newest entry states), else 0 with a count."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--progress", action="store_true", help="print progress to stderr")

    def handle(self, *args, batch_size, progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")

        def report(done, total):
            self.stderr.write(f"checked {done} of {total} enrollments")

        result = enrollments_check(batch_size=batch_size, progress=report if progress else None)
        for pk in result.differing:
            self.stdout.write(str(pk))
        if result.differing:
            raise CommandError(
                f"{len(result.differing)} of {result.checked} enrollments differ from the replay.",
                returncode=1,
            )
        self.stdout.write(f"All {result.checked} enrollments match the replay of their ledger.")
